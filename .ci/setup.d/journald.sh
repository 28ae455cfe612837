#!/usr/bin/env bash
# systemd-journal-remote writes real journal files from export-format input, and journalctl
# (systemd) reads them: the journald source's tests (test/forwarder/journald/) drive both.
# Idempotent: does nothing when both are there.
set -euo pipefail
REMOTE=/lib/systemd/systemd-journal-remote
if [ -x "$REMOTE" ] && command -v journalctl >/dev/null; then
  echo "systemd-journal-remote ready: $REMOTE"; exit 0
fi
command -v apt-get >/dev/null || { echo "apt-get not found: cannot install systemd-journal-remote" >&2; exit 0; }
[ "$(id -u)" = 0 ] || { echo "not root: install systemd-journal-remote by hand" >&2; exit 0; }
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends systemd-journal-remote >/dev/null
[ -x "$REMOTE" ] || { echo "$REMOTE missing after installing systemd-journal-remote" >&2; exit 1; }
echo "systemd-journal-remote ready: $REMOTE"
