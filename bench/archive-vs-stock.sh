#!/usr/bin/env bash
# Archive benchmark (issue 2): the whole `java -Xmx64m -jar binlog-archive.jar archive` process,
# start-up included, against the stock-tools pipeline doing the same job on the same files in
# the same run: zstd -3 (one thread) while SHA-256 of the input and of the output are computed.
# Usage: bench/archive-vs-stock.sh BINLOG_DIR [RUNS] [EXTRA ARCHIVE FLAGS...]
#   BINLOG_DIR comes from bench/gen-binlogs.sh (3 closed ~100 MB binlogs + the active one).
set -euo pipefail
dir=${1:?usage: archive-vs-stock.sh BINLOG_DIR [RUNS] [flags]}
runs=${2:-3}
shift $(( $# >= 2 ? 2 : 1 ))
jar="$(cd "$(dirname "$0")/.." && pwd)/binlog-archive-examples/target/binlog-archive.jar"
[ -f "$jar" ] || { echo "build first: mvn -q -DskipTests package" >&2; exit 2; }
mapfile -t files < <(sed 's|^\./||' "$dir/mysql-bin.index" | head -n -1)
bytes=0; for f in "${files[@]}"; do bytes=$((bytes + $(stat -c %s "$dir/$f"))); done
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
now() { date +%s%N; }
stock() {
  for f in "${files[@]}"; do
    tee >(openssl dgst -sha256 >/dev/null) < "$dir/$f" | zstd -3 -T1 -q -c \
      | tee >(openssl dgst -sha256 >/dev/null) > "$out/$f.zst"
  done
  wait
}
java_archive() {
  rm -rf "$out/archive" "$out/cursor.json"*
  java -Xmx64m -jar "$jar" archive --binlog-dir "$dir" --to "file://$out/archive" --cursor "$out/cursor.json" \
    --stats "$@" 2> "$out/java.err" >/dev/null || { cat "$out/java.err" >&2; exit 1; }
}
cat "$dir"/mysql-bin.0* > /dev/null   # warm the page cache
declare -a ts tj
for i in $(seq "$runs"); do
  t0=$(now); stock; t1=$(now); java_archive "$@"; t2=$(now)
  ts+=($(( (t1 - t0) / 1000000 ))); tj+=($(( (t2 - t1) / 1000000 )))
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ms=$(median "${ts[@]}"); mj=$(median "${tj[@]}")
mb=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b/1e6}')
echo "files: ${#files[@]} closed binlogs, $mb MB; runs: $runs (medians)"
echo "stock  zstd -3 -T1 + sha256 in/out : ${ms} ms  $(awk -v b="$bytes" -v t="$ms" 'BEGIN {printf "%.0f", b/1e3/t}') MB/s   (runs: ${ts[*]})"
echo "java -Xmx64m -jar ... archive $*: ${mj} ms  $(awk -v b="$bytes" -v t="$mj" 'BEGIN {printf "%.0f", b/1e3/t}') MB/s   (runs: ${tj[*]})"
echo "ratio java/stock throughput: $(awk -v s="$ms" -v j="$mj" 'BEGIN {printf "%.2f", s/j}')"
grep '^stats:' "$out/java.err" | tail -1
ls -la "$out/archive"/*/t0001/binlog/ | awk 'NR>1 {s+=$5} END {print "archive bytes (artifacts+sidecars): " s}'
