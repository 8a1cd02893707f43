# Shared by scripts/run and scripts/test. Source it; do not run it.

# The Debian packages whago builds against.
WHAGO_BUILD_PACKAGES=(pkg-config libyaml-dev libcurl4-openssl-dev libqrencode-dev libpng-dev)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# ensure_packages PKG... — installs the Debian packages that are missing (quick when all are there).
ensure_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing packages ${missing[*]}: run as root or install sudo"
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  # An update is needed on a fresh machine (empty lists) and harmless otherwise.
  "${sudo[@]}" apt-get update -qq >/dev/null || die "apt-get update failed"
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# ensure_swift — the toolchain cannot be installed from Debian; say where it is expected.
ensure_swift() {
  if ! command -v swift >/dev/null; then
    [ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"
  fi
  command -v swift >/dev/null || die "swift not found: install Swift 6.1 or later (https://swift.org/install) and put it on PATH"
}

# free_port — prints a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_port PORT [SECONDS] — waits until something accepts connections on 127.0.0.1:PORT.
wait_for_port() {
  local port=$1 deadline=$((SECONDS + ${2:-20}))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}
