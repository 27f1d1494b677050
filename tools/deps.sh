# Sourced by the set-up scripts: installs the Debian 12 packages hyenavk needs, only where missing.
HYENAVK_PACKAGES=(
  cmake ninja-build g++ pkg-config
  libvulkan-dev libvulkan-volk-dev glslang-tools glslang-dev spirv-tools libvkfft-dev
  nlohmann-json3-dev libcli11-dev doctest-dev
  mesa-vulkan-drivers vulkan-validationlayers
)

hyenavk_install_deps() {
  local missing=()
  for p in "${HYENAVK_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}
