#!/usr/bin/env bash
# The installed package as a user's build sees it: `cmake --install` into a scratch prefix, then
# samples/embed_c built against it twice, through find_package(hyenavk) and with a plain C compiler and
# pkg-config, and samples/host_device (C++, a host that lends its own Vulkan device) through find_package,
# all run under the validation layer (host_device on the first device, the others on the default one).
#   install_and_build.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CACHE_HOME=$work/cache  # the samples' kernel cache stays in the scratch directory

cmake --install "$build" --prefix "$work/prefix" >/dev/null
library=$(find "$work/prefix" -name 'libhyenavk.so' -print -quit)
[ -n "$library" ] || { echo "FAIL: no libhyenavk.so installed"; exit 1; }
libdir=$(dirname "$library")
soname=$(readelf -d "$library" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
abi=$(sed -n 's/^#define HYENAVK_ABI_VERSION \([0-9]*\)$/\1/p' "$source/include/hyenavk/version.h")
[ "$soname" = "libhyenavk.so.$abi" ] || { echo "FAIL: soname '$soname', expected libhyenavk.so.$abi"; exit 1; }
for f in include/hyenavk/hyenavk.h include/hyenavk/hyenavk.hpp bin/hyenavk; do
  [ -e "$work/prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
# The library exports its API and nothing else (no glslang, SPIRV-Tools or C++ standard library symbols).
allowed="^(hyenavk_|_ZN7hyenavk|_ZNK7hyenavk|_ZTIN7hyenavk|_ZTSN7hyenavk|_ZTVN7hyenavk)"
if nm -D --defined-only "$library" | awk '{print $3}' | grep -v -E "$allowed" | grep -q .; then
  echo "FAIL: symbols outside hyenavk's API are exported:"
  nm -D --defined-only "$library" | awk '{print $3}' | grep -v -E "$allowed" | head
  exit 1
fi

echo "== the installed CLI"
"$work/prefix/bin/hyenavk" --version

echo "== find_package(hyenavk)"
cmake -G Ninja -S "$source/samples/embed_c" -B "$work/embed" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/embed" >/dev/null
"$work/embed/embed_c" --validation

echo "== cc with pkg-config"
export PKG_CONFIG_PATH=$libdir/pkgconfig
# shellcheck disable=SC2046  # pkg-config's output is a list of flags
cc -std=c99 -Wall -Wextra -Wpedantic -Werror "$source/samples/embed_c/main.c" -o "$work/embed_c_pc" \
  $(pkg-config --cflags --libs hyenavk) -lm
LD_LIBRARY_PATH=$libdir "$work/embed_c_pc" --validation

echo "== a host's own device lent to hyenavk (find_package(hyenavk), C++)"
cmake -G Ninja -S "$source/samples/host_device" -B "$work/host" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_COMPILE_WARNING_AS_ERROR=ON >/dev/null
cmake --build "$work/host" >/dev/null
"$work/host/host_device" --validation
# The same without timeline semaphores: hyenavk signals the host's binary semaphore instead.
"$work/host/host_device" --validation --no-timeline
echo "packaging: ok"
