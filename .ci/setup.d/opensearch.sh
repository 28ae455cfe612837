#!/usr/bin/env bash
# OpenSearch 2.19.6 for `npm run test:opensearch`: the test node in test/opensearch/launcher,
# built from Maven Central artifacts (the server, netty4 for HTTP, analysis-common). Needs
# Java 17 and Maven; installs them with apt-get when missing and allowed. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../../test/opensearch/launcher"
if ! command -v mvn >/dev/null || ! command -v java >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless maven >/dev/null
  else
    echo "opensearch: java 17 and maven are needed to build the OpenSearch test node" >&2
    exit 1
  fi
fi
mvn -q -B dependency:go-offline
mvn -q -B package
echo "opensearch: test node built ($(wc -c < target/classpath.txt) bytes of classpath)"
