/* hyenavk's version, shared by the C and C++ headers and read by the build (CMakeLists.txt).
 *
 * HYENAVK_VERSION_MAJOR/MINOR/PATCH follow semantic versioning. HYENAVK_ABI_VERSION is the shared library's
 * soname (libhyenavk.so.<ABI>): it changes only when the C ABI in hyenavk.h changes incompatibly, and a
 * program built against one ABI keeps running on every later release with the same ABI. */
#ifndef HYENAVK_VERSION_H
#define HYENAVK_VERSION_H

#define HYENAVK_VERSION_MAJOR 0
#define HYENAVK_VERSION_MINOR 2
#define HYENAVK_VERSION_PATCH 0
#define HYENAVK_ABI_VERSION 1

/* One integer per version, ordered as the versions are: HYENAVK_MAKE_VERSION(0, 2, 0) < (0, 10, 0). */
#define HYENAVK_MAKE_VERSION(major, minor, patch) \
    ((((unsigned)(major)) << 22) | (((unsigned)(minor)) << 12) | ((unsigned)(patch)))
#define HYENAVK_VERSION HYENAVK_MAKE_VERSION(HYENAVK_VERSION_MAJOR, HYENAVK_VERSION_MINOR, HYENAVK_VERSION_PATCH)

#endif
