#!/usr/bin/env bash
# The S3 pipeline benchmark (issue 5), optionally behind a bandwidth limit on loopback, which
# stands in for the network link between a database host and its object store.
# Usage: bench/s3-pipeline.sh BINLOG [RATE] [LEVEL] [ROUNDS]
#   RATE: a tc rate such as 1gbit or 500mbit, or "none" (default); needs root and tc (iproute2).
#         The limit is a tbf qdisc on lo for the duration of the run, removed on exit. It slows
#         every loopback connection of the machine meanwhile: run it on an otherwise idle machine.
#   LEVEL: the zstd level of both the pipeline and the precompressed reference (default 3).
# Builds the benchmark module first (bench/classpath.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
binlog=${1:?usage: s3-pipeline.sh BINLOG [RATE] [LEVEL] [ROUNDS]}
rate=${2:-none}
level=${3:-3}
rounds=${4:-5}
cp=$(bench/classpath.sh)
if [ "$rate" != none ]; then
  tc qdisc add dev lo root tbf rate "$rate" burst 1mb latency 100ms
  trap 'tc qdisc del dev lo root 2>/dev/null || true' EXIT
fi
echo "== S3 pipeline: link ${rate}, zstd level ${level}, $(nproc) cores"
java -Xmx2g -Dlevel="$level" -DlocalOnly=true -cp "$cp" io.binlogarchive.s3.S3PipelineThroughput "$binlog" "$rounds" 2>&1 \
  | grep -v -e ' WARN ' -e '^SLF4J'
