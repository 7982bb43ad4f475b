# shellcheck shell=bash
# Sourced by the project's entry scripts (bash).
#
# vnet_apt_ensure PKG...  install those Debian packages that are not installed yet.
# Returns 0 when all are present afterwards; prints what it installs. Needs root only when
# something is missing. Debian packages only, through apt-get: nothing else is fetched.
vnet_apt_ensure() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "== installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "need root to install packages: ${missing[*]}" >&2
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || {
    echo "apt-get install failed: ${missing[*]}" >&2
    return 1
  }
}
