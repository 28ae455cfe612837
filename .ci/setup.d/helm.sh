#!/usr/bin/env bash
# helm for test/charts/: built from the Go module proxy by charts/tools/ensure-helm.mjs into the
# machine's daytwo cache (~/.cache/daytwo/helm-<version>/), once per machine and version; later
# runs reuse it. Needs the Go toolchain (on the CI machines). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$SECONDS
HELM="$(node charts/tools/ensure-helm.mjs)"
echo "helm ready: $HELM ($("$HELM" version --short)) in $((SECONDS - start)) s"
