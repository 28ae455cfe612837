#!/usr/bin/env bash
# syslog-ng's loggen as a syslog sender for test/forwarder/syslog. Debian's syslog-ng-core
# conflicts with rsyslog (both provide system-log-daemon), so it is not installed: its .deb and
# the libraries loggen needs are downloaded and unpacked into a folder of their own.
# Idempotent: does nothing when loggen already runs from there.
set -euo pipefail
DEST="${SYSLOG_NG_UNPACKED:-/opt/syslog-ng-unpacked}"
PKGS=(syslog-ng-core libivykis0 libnet1 libpcre3 libevtlog0 libsecret-1-0 libjson-c5 libmaxminddb0 libcap2)

loggen_bin () { find "$DEST" -name loggen -type f -perm -u+x 2>/dev/null | head -1; }
libdirs () { find "$DEST" -name '*.so*' -printf '%h\n' 2>/dev/null | sort -u | paste -sd: -; }

if [ -n "$(loggen_bin)" ] && LD_LIBRARY_PATH="$(libdirs)" "$(loggen_bin)" --help >/dev/null 2>&1; then
  echo "loggen ready in $DEST"; exit 0
fi
command -v apt-get >/dev/null || { echo "apt-get not found: cannot unpack syslog-ng-core" >&2; exit 0; }
[ "$(id -u)" = 0 ] && apt-get update -qq || true
mkdir -p "$DEST/debs"
cd "$DEST/debs"
for p in "${PKGS[@]}"; do
  apt-get download -qq "$p" 2>/dev/null || echo "note: $p not downloadable (may not be needed on this release)"
done
for d in ./*.deb; do dpkg -x "$d" "$DEST"; done
BIN="$(loggen_bin)"
[ -n "$BIN" ] || { echo "loggen not found after unpacking syslog-ng-core" >&2; exit 1; }
# Report any library loggen still cannot find (it would then fail at run time).
if LD_LIBRARY_PATH="$(libdirs)" ldd "$BIN" | grep 'not found'; then
  echo "loggen is missing libraries above; add their packages to PKGS in $0" >&2; exit 1
fi
echo "loggen ready: $BIN"
