/* HYENAVK_API marks what the shared library exports; everything else in it is hidden. */
#ifndef HYENAVK_EXPORT_H
#define HYENAVK_EXPORT_H

#if defined(_WIN32) && defined(HYENAVK_BUILDING)
#define HYENAVK_API __declspec(dllexport)
#elif defined(_WIN32)
#define HYENAVK_API __declspec(dllimport)
#elif defined(__GNUC__)
#define HYENAVK_API __attribute__((visibility("default")))
#else
#define HYENAVK_API
#endif

#endif
