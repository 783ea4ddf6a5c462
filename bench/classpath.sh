#!/usr/bin/env bash
# Builds the benchmark module (binlog-archive-bench, with the modules it needs; no install) and
# prints its class path, for `java -cp "$(bench/classpath.sh)" <runner> ARGS`.
# BENCH_NO_BUILD=1 skips the build when the tree is already built (mvn package).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
if [ "${BENCH_NO_BUILD:-0}" != 1 ] || [ ! -f binlog-archive-bench/target/classpath.txt ]; then
  mvn -q -B -ntp -DskipTests -pl binlog-archive-bench -am package >&2
fi
echo "$root/binlog-archive-bench/target/classes:$(cat binlog-archive-bench/target/classpath.txt)"
