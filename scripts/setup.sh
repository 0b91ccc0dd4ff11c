#!/bin/sh
# Installs what burstlet needs on a fresh machine and builds native/.
# Idempotent and quiet when nothing is missing. Used by `npm start`, `npm test` and .ci/run.
set -eu
cd "$(dirname "$0")/.."

# Debian packages: real services for tests and standalone mode, the yardstick runtimes and
# pullers for benchmarks, the C toolchain for native/, and attr (tests read and set xattrs).
PKGS="redis-server docker-registry busybox-static runc crun containernetworking-plugins
iproute2 iptables skopeo umoci make gcc libc6-dev openssl attr
chromium"

missing=""
for pkg in $PKGS; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing="$missing $pkg"
done

if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "setup: missing Debian packages:$missing" >&2
    echo "setup: install them as root with: apt-get update && apt-get install -y$missing" >&2
    exit 1
  fi
fi

# Node dependencies (including the pinned Node 24 binary). npm ci when the installed tree
# does not match the lockfile.
if ! cmp -s package-lock.json node_modules/.burstlet-lock 2>/dev/null || [ ! -x node_modules/.bin/node ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  cp package-lock.json node_modules/.burstlet-lock
fi

# The C executor, built with the system compiler (make is a no-op when up to date).
if [ -f native/Makefile ]; then
  make -s -C native
fi
