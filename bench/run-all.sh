#!/usr/bin/env bash
# Runs every benchmark runner of BENCHMARKS.md in one go, each beside its reference in the same run.
# Usage: bench/run-all.sh [BINLOG_DIR]   (BINLOG_DIR from bench/gen-binlogs.sh; generated if missing)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
dir=${1:-/tmp/bench-binlogs}
[ -f "$dir/mysql-bin.index" ] || bench/gen-binlogs.sh "$dir" 3
mvn -q -B -ntp -DskipTests package    # the example jar and the benchmark module (never install)
cp=$(BENCH_NO_BUILD=1 bench/classpath.sh)
first="$dir/$(sed -n '1s|^\./||p' "$dir/mysql-bin.index")"

echo "== archive: java -jar archive vs zstd -3 + sha256 (issue 2)"
bench/archive-vs-stock.sh "$dir" 5
echo "== archive stages alone and together: SHA-256, scanner, zstd-3, one thread (JMH; issues 3 and 16)"
java -cp "$cp" org.openjdk.jmh.Main ArchiveStages
echo "== scanner inside the pipeline, on and off (issue 3)"
java -cp "$cp" io.binlogarchive.PipelineScannerOverhead "$dir" 5 2>/dev/null | grep -v ' INFO '
echo "== the built-in transforms, warm, both directions (JMH)"
java -cp "$cp" org.openjdk.jmh.Main TransformBenchmark
echo "== AES-256-GCM encrypt/decrypt vs openssl (issue 4)"
java -Xmx2g -cp "$cp" io.binlogarchive.crypto.AesGcmThroughput
echo "== S3: pipeline to s3proxy vs plain SDK upload of the compressed file (issue 5)"
java -Xmx2g -cp "$cp" io.binlogarchive.s3.S3PipelineThroughput "$first" 5
echo "== S3: S3Sink vs plain SDK upload of the same bytes (issue 5)"
java -Xmx2g -cp "$cp" io.binlogarchive.s3.S3UploadThroughput 100 5
echo "== fetch vs zstd -d (issue 7)"
java -cp "$cp" io.binlogarchive.restore.FetchThroughput "$first" 7
echo "== rotation storm: per-file overhead (issue 8)"
java -cp "$cp" io.binlogarchive.RotationStormBenchmark 1000 2
