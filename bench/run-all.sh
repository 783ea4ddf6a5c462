#!/usr/bin/env bash
# Runs every benchmark runner of BENCHMARKS.md in one go, each beside its reference in the same run.
# Usage: bench/run-all.sh [BINLOG_DIR]   (BINLOG_DIR from bench/gen-binlogs.sh; generated if missing)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
dir=${1:-/tmp/bench-binlogs}
[ -f "$dir/mysql-bin.index" ] || bench/gen-binlogs.sh "$dir" 3
mvn -q -B -ntp -DskipTests install
stage=${2:-all}
cp_of() {  # test classpath of a module
  local f; f=$(mktemp)
  mvn -q -B -ntp -pl "$1" dependency:build-classpath -Dmdep.outputFile="$f" -Dmdep.includeScope=test >/dev/null
  cat "$f"; rm -f "$f"
}
core_cp="binlog-archive-core/target/test-classes:binlog-archive-core/target/classes:$(cp_of binlog-archive-core)"
s3_cp="binlog-archive-s3/target/test-classes:binlog-archive-s3/target/classes:$(cp_of binlog-archive-s3)"
first="$dir/$(sed -n '1s|^\./||p' "$dir/mysql-bin.index")"

echo "== archive: java -jar archive vs zstd -3 + sha256 (issue 2)"
bench/archive-vs-stock.sh "$dir" 5
echo "== scanner overhead (issue 3)"
java -cp "$core_cp" io.binlogarchive.ScannerThroughput 9
echo "== scanner inside the pipeline, on and off (issue 3)"
java -cp "$core_cp" io.binlogarchive.PipelineScannerOverhead "$dir" 5 2>/dev/null | grep -v ' INFO '
echo "== AES-256-GCM encrypt/decrypt vs openssl (issue 4)"
java -Xmx2g -cp "$core_cp" io.binlogarchive.AesGcmThroughput
echo "== S3: pipeline to s3proxy vs plain SDK upload of the compressed file (issue 5)"
java -Xmx2g -cp "$s3_cp" io.binlogarchive.s3.S3PipelineThroughput "$first" 5
echo "== S3: S3Sink vs plain SDK upload of the same bytes (issue 5)"
java -Xmx2g -cp "$s3_cp" io.binlogarchive.s3.S3UploadThroughput 100 5
echo "== fetch vs zstd -d (issue 7)"
java -cp "$core_cp" io.binlogarchive.FetchThroughput "$first" 7
echo "== rotation storm: per-file overhead (issue 8)"
java -cp "$core_cp" io.binlogarchive.RotationStormBenchmark 1000 2
