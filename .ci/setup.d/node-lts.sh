#!/usr/bin/env bash
# The current Node LTS (.ci/node-lts-version) beside the machine's Node 20, for .ci/test-lts.
# The npm registry's node-linux-<arch> package carries the binary and the headers node-gyp
# compiles native modules against. Installed once per machine and version into the daytwo
# cache outside the checkout ($DAYTWO_CACHE, else ~/.cache/daytwo), since CI clones afresh.
# Prints the Node folder (bin/node, include/node). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION="$(tr -d '[:space:]' < .ci/node-lts-version)"
case "$(uname -m)" in
  x86_64) ARCH=x64 ;;
  aarch64) ARCH=arm64 ;;
  *) echo "node-lts: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
CACHE="${DAYTWO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/daytwo}"
PREFIX="$CACHE/node-$VERSION-$ARCH"
NODE_DIR="$PREFIX/node_modules/node-linux-$ARCH"
if [ "$("$NODE_DIR/bin/node" --version 2>/dev/null)" != "v$VERSION" ]; then
  start=$SECONDS
  rm -rf "$PREFIX"
  mkdir -p "$PREFIX"
  chmod 700 "$PREFIX"
  npm install --prefix "$PREFIX" --no-save --no-package-lock --no-audit --no-fund "node-linux-$ARCH@$VERSION" >&2
  [ "$("$NODE_DIR/bin/node" --version)" = "v$VERSION" ] || { echo "node-lts: $NODE_DIR/bin/node is not v$VERSION" >&2; exit 1; }
  [ -f "$NODE_DIR/include/node/node_api.h" ] || { echo "node-lts: no headers in $NODE_DIR/include/node" >&2; exit 1; }
  echo "node-lts: Node v$VERSION installed in $((SECONDS - start)) s" >&2
fi
echo "$NODE_DIR"
