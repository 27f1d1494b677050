/* Preloaded by `tools/run-tests --sanitize` (after the ASan runtime). The Vulkan loader dlcloses the validation
 * layer in vkDestroyInstance and the driver when the instance goes away, long before LeakSanitizer reports at
 * exit. Once a module is unmapped, LeakSanitizer neither scans its globals (so memory they still point to looks
 * leaked) nor can name it in a stack ("<unknown module>"), so a suppression by module cannot match.
 *
 * This takes one extra reference to each module below, opened RTLD_LOCAL so that none of their symbols enter the
 * global scope (preloading the layer itself does, and its vkGetInstanceProcAddr then interposes the loader's),
 * and RTLD_NODELETE so that they stay mapped until the process exits. The loader's own dlopen of the same file
 * returns the same object. A module that is not installed is skipped. */
#define _GNU_SOURCE
#include <dlfcn.h>

static const char* const kModules[] = {
    "libVkLayer_khronos_validation.so", /* Khronos validation layer (Debian: vulkan-validationlayers) */
    "libvulkan_lvp.so",                 /* lavapipe (Debian: mesa-vulkan-drivers) */
};

__attribute__((constructor)) static void keep_loaded(void) {
    for (unsigned i = 0; i < sizeof kModules / sizeof kModules[0]; ++i)
        (void)dlopen(kModules[i], RTLD_LAZY | RTLD_LOCAL | RTLD_NODELETE);
}
