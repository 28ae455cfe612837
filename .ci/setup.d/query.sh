#!/usr/bin/env bash
# test/query/hostile-names extracts bundles with GNU tar and with Python's tarfile, reads the
# usage CSV with Python's csv module, and gives the CLI a terminal with util-linux `script`.
set -euo pipefail
missing=()
command -v python3 >/dev/null || missing+=(python3)
tar --version 2>/dev/null | grep -q 'GNU tar' || missing+=(tar)
command -v script >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -eq 0 ]; then echo "python3, GNU tar and script ready"; exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "missing ${missing[*]} and cannot install them: test/query/hostile-names will fail" >&2
fi
