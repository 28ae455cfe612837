#!/usr/bin/env bash
# bench/: syslog-ng itself (not only loggen) runs as a peer in the benchmarks. Its network
# drivers (libafsocket.so) also need libwrap0, which syslog-ng.sh does not unpack: add it
# beside the other unpacked libraries. Idempotent; does nothing without apt-get.
set -euo pipefail
DEST="${SYSLOG_NG_UNPACKED:-/opt/syslog-ng-unpacked}"
[ -d "$DEST" ] || { echo "bench: $DEST missing (run syslog-ng.sh first)"; exit 0; }
if find "$DEST" -name 'libwrap.so.0*' | grep -q .; then echo "bench: libwrap0 already unpacked"; exit 0; fi
command -v apt-get >/dev/null || { echo "bench: apt-get not found: syslog-ng's network drivers will not load" >&2; exit 0; }
mkdir -p "$DEST/debs"
cd "$DEST/debs"
apt-get download -qq libwrap0 || { echo "bench: libwrap0 not downloadable" >&2; exit 0; }
for d in ./libwrap0*.deb; do dpkg -x "$d" "$DEST"; done
echo "bench: libwrap0 unpacked into $DEST"
