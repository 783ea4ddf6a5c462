#!/usr/bin/env bash
# CPU cost of archiving (issue 16): the whole archiver process against the stock pipeline on the
# same files, alternately in the same run (stock, ours, stock, ours, ...). Reports CPU seconds
# (user + sys of the process and everything it waited for), wall seconds and peak RSS; CPU is
# what to compare on a shared machine, wall time varies with the load.
# Usage: bench/cost-vs-stock.sh BINLOG_DIR [RUNS] [COMMAND...]
#   COMMAND: the archiver to run (default: the distribution's launcher, unpacked from
#   binlog-archive-examples/target/binlog-archive-*.tar.gz); the script appends
#   `archive --binlog-dir DIR --to file://OUT --cursor FILE`. Example of the plain jar:
#   bench/cost-vs-stock.sh DIR 5 java -Xmx64m -jar binlog-archive-examples/target/binlog-archive.jar
#   ARCHIVE_FLAGS (environment): more archive flags, e.g. ARCHIVE_FLAGS='--zstd-workers 1'
#   STOCK_FSYNC=1 (environment): the stock pipeline also fsyncs each .zst it wrote (`sync FILE`), as
#   the archiver does before its cursor moves
set -euo pipefail
dir=${1:?usage: cost-vs-stock.sh BINLOG_DIR [RUNS] [COMMAND...]}
runs=${2:-5}
shift $(( $# >= 2 ? 2 : 1 ))
root="$(cd "$(dirname "$0")/.." && pwd)"
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
if [ $# -eq 0 ]; then
  tarball=$(ls "$root"/binlog-archive-examples/target/binlog-archive-*.tar.gz)
  tar xzf "$tarball" -C "$out"
  export BINLOG_ARCHIVE_CDS_DIR="$out/cds"
  set -- "$(ls -d "$out"/binlog-archive-*/)bin/binlog-archive"
  "$1" --help >/dev/null   # first run: builds the class-data-sharing archive (not timed)
fi
mapfile -t files < <(sed 's|^\./||' "$dir/mysql-bin.index" | head -n -1)
bytes=0; for f in "${files[@]}"; do bytes=$((bytes + $(stat -c %s "$dir/$f"))); done
mkfifo "$out/fifo"
stock() {  # per file: zstd -3 on one thread, SHA-256 of the input and of the output
  for f in "${files[@]}"; do
    openssl dgst -sha256 < "$out/fifo" > /dev/null &
    tee "$out/fifo" < "$dir/$f" | zstd -3 -T1 -q -c | tee "$out/$f.zst" | openssl dgst -sha256 > /dev/null
    wait
    [ -z "${STOCK_FSYNC:-}" ] || sync "$out/$f.zst"
  done
}
export -f stock; export out dir STOCK_FSYNC=${STOCK_FSYNC:-}; export files_list="${files[*]}"
cat "$dir"/mysql-bin.0* > /dev/null   # warm the page cache
declare -a cs cj ws wj rss
for i in $(seq "$runs"); do
  rm -f "$out"/*.zst; sync   # each timed run starts with no dirty pages of the last one
  r=$(/usr/bin/time -f '%U %S %e %M' bash -c 'files=($files_list); '"$(declare -f stock)"'; stock' 2>&1 >/dev/null | tail -1)
  cs+=($(awk '{print $1 + $2}' <<<"$r")); ws+=($(awk '{print $3}' <<<"$r"))
  rm -rf "$out/archive" "$out/cursor.json"*; sync
  r=$(/usr/bin/time -f '%U %S %e %M' "$@" archive --binlog-dir "$dir" --to "file://$out/archive" \
        --cursor "$out/cursor.json" ${ARCHIVE_FLAGS:-} 2>&1 >/dev/null | tail -1)
  cj+=($(awk '{print $1 + $2}' <<<"$r")); wj+=($(awk '{print $3}' <<<"$r")); rss+=($(awk '{print $4}' <<<"$r"))
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mb=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b/1e6}')
art=$(du -cb "$out"/archive/*/t0001/binlog/*.zst* 2>/dev/null | tail -1 | cut -f1)
echo "archiver: $* archive ${ARCHIVE_FLAGS:-}; stock fsyncs its output: ${STOCK_FSYNC:-no}"
echo "files: ${#files[@]} closed binlogs, $mb MB, archived to $art bytes ($(awk -v a="$bytes" -v b="$art" 'BEGIN {printf "%.1fx", a/b}')); runs: $runs, medians; load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'stock: cpu %s s  wall %s s   (cpu runs: %s)\n' "$(median "${cs[@]}")" "$(median "${ws[@]}")" "${cs[*]}"
printf 'ours:  cpu %s s  wall %s s  peak RSS %s KiB   (cpu runs: %s)\n' "$(median "${cj[@]}")" "$(median "${wj[@]}")" \
  "$(median "${rss[@]}")" "${cj[*]}"
printf 'ratio stock/ours: cpu %s  wall %s  (>1: ours cheaper / faster)\n' \
  "$(awk -v s="$(median "${cs[@]}")" -v j="$(median "${cj[@]}")" 'BEGIN {printf "%.2f", s/j}')" \
  "$(awk -v s="$(median "${ws[@]}")" -v j="$(median "${wj[@]}")" 'BEGIN {printf "%.2f", s/j}')"
