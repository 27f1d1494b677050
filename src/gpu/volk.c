/* volk's implementation, from the system's volk package, compiled into the library. */
#include <volk.c>
