#!/bin/sh
# Gathers journalctl and the shared libraries it loads that the base image lacks into OUT, for
# the image's runtime stage to copy (charts/Dockerfile, stage `journal`). The runtime stage
# installs nothing, so the forwarder's journald source (forwarder/sources/journald/) gets its
# journalctl this way: the binary, libsystemd-shared and what else `ldd` names.
#   BASE: a file listing the libraries the base image already has, one path a line
#         (made before systemd was installed: ldconfig -p), or empty to copy them all.
#   OUT:  where to put the files, under their paths in the image.
set -eu
: "${BASE:?a file of the base image's libraries}" "${OUT:?the output directory}"
# /lib is a link to /usr/lib in Debian 12: name each library by its real directory, so that
# the same library has the same name in BASE and here, and COPY never replaces a link by a dir.
norm() { while read -r f; do echo "$(readlink -f "$(dirname "$f")")/$(basename "$f")"; done; }
norm < "$BASE" | sort -u > /tmp/journalctl-base
# (The loader, ldd's line without "=>", is glibc's: in every base image.)
ldd /usr/bin/journalctl | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | norm | sort -u > /tmp/journalctl-needs
mkdir -p "$OUT/usr/bin"
cp /usr/bin/journalctl "$OUT/usr/bin/"
comm -23 /tmp/journalctl-needs /tmp/journalctl-base | while read -r f; do
  mkdir -p "$OUT$(dirname "$f")"
  cp -L "$f" "$OUT$f"
done
