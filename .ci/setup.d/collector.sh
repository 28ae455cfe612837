#!/usr/bin/env bash
# test/collector/auth-tls makes its CA, server and client certificates with openssl at test time.
set -euo pipefail
if command -v openssl >/dev/null; then echo "openssl ready: $(openssl version)"; exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends openssl >/dev/null
else
  echo "openssl missing and cannot install it: the collector's TLS tests will be skipped" >&2
fi
