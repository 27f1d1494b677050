# Debian's VkFFT 1.2.26 header spells out glslang's resource-limit table positionally, which no longer
# matches the glslang_resource_t of Debian's glslang 12 and does not compile as C++. This makes a patched
# copy at configure time that takes glslang's own default table instead; nothing else in the header changes.
set(_vkfft_src ${VKFFT_INCLUDE_DIR}/vkFFT.h)
set(VKFFT_COMPAT_DIR ${CMAKE_BINARY_DIR}/vkfft_compat)
set(_vkfft_out ${VKFFT_COMPAT_DIR}/vkFFT.h)
file(READ ${_vkfft_src} _vkfft_text)
set(_table_regex "const glslang_resource_t default_resource = {[^;]*} };")
string(REGEX MATCHALL "${_table_regex}" _tables "${_vkfft_text}")
list(LENGTH _tables _table_count)
if(_table_count EQUAL 0)
  message(FATAL_ERROR "VkFFT compatibility step: the resource table was not found in ${_vkfft_src}; "
                      "this VkFFT version needs a new look at cmake/VkFFTCompat.cmake")
endif()
string(REGEX REPLACE "${_table_regex}" "const glslang_resource_t default_resource = *glslang_default_resource();"
       _vkfft_text "${_vkfft_text}")
string(REPLACE "#include <glslang/Include/glslang_c_interface.h>"
               "#include <glslang/Include/glslang_c_interface.h>\n#include <glslang/Public/resource_limits_c.h>"
               _vkfft_text "${_vkfft_text}")
file(WRITE ${_vkfft_out}.tmp "${_vkfft_text}")
configure_file(${_vkfft_out}.tmp ${_vkfft_out} COPYONLY)  # rewrites only on change, so no needless rebuilds
message(STATUS "VkFFT compatibility header: ${_vkfft_out} (${_table_count} resource tables replaced)")
