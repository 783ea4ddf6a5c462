#!/usr/bin/env bash
# Restore cost (issue 16): the whole `restore fetch` process of the distribution's launcher against
# `zstd -d` of the same artifacts with the SHA-256 check (`zstd -d -c f.zst | tee out | openssl
# dgst -sha256`), alternately in the same run, medians of CPU seconds and wall time.
# Usage: bench/fetch-vs-zstd.sh BINLOG_DIR [RUNS]   (archives BINLOG_DIR's closed files first)
#   FETCH_FLAGS (environment): more fetch flags, e.g. FETCH_FLAGS=--sync (fsync each fetched file)
#   STOCK_FSYNC=1 (environment): the reference also fsyncs each file it wrote (`sync FILE`); the
#   fair pair of FETCH_FLAGS=--sync (without it `restore fetch` does not fsync either)
set -euo pipefail
dir=${1:?usage: fetch-vs-zstd.sh BINLOG_DIR [RUNS]}
runs=${2:-5}
root="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
tar xzf "$(ls "$root"/binlog-archive-examples/target/binlog-archive-*.tar.gz)" -C "$work"
launcher=$(ls -d "$work"/binlog-archive-*/)bin/binlog-archive
export BINLOG_ARCHIVE_CDS_DIR="$work/cds"
"$launcher" archive --binlog-dir "$dir" --to "file://$work/a" --cursor "$work/c.json" 2>/dev/null
zsts=("$work"/a/*/t0001/binlog/*.zst)
export work STOCK_FSYNC=${STOCK_FSYNC:-}; export zst_list="${zsts[*]}"
cat "${zsts[@]}" > /dev/null
declare -a cs cj ws wj
for i in $(seq "$runs"); do
  rm -rf "$work/out"; mkdir "$work/out"; sync   # each timed run starts with no dirty pages of the last one
  r=$(/usr/bin/time -f '%U %S %e' bash -c 'for f in $zst_list; do zstd -d -q -c "$f" | tee "$work/out/$(basename "${f%.zst}")" | openssl dgst -sha256 >/dev/null; [ -z "${STOCK_FSYNC:-}" ] || sync "$work/out/$(basename "${f%.zst}")"; done' 2>&1 | tail -1)
  cs+=($(awk '{print $1 + $2}' <<<"$r")); ws+=($(awk '{print $3}' <<<"$r"))
  rm -rf "$work/out"; sync
  r=$(/usr/bin/time -f '%U %S %e' "$launcher" restore fetch --from "file://$work/a" --to-dir "$work/out" ${FETCH_FLAGS:-} 2>&1 >/dev/null | tail -1)
  cj+=($(awk '{print $1 + $2}' <<<"$r")); wj+=($(awk '{print $3}' <<<"$r"))
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "artifacts: ${#zsts[@]}; fetch flags: ${FETCH_FLAGS:-none}; reference fsyncs its output: ${STOCK_FSYNC:-no}; runs: $runs, medians; load: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'zstd -d + sha256: cpu %s s  wall %s s   (cpu runs: %s)\n' "$(median "${cs[@]}")" "$(median "${ws[@]}")" "${cs[*]}"
printf 'restore fetch:    cpu %s s  wall %s s   (cpu runs: %s)\n' "$(median "${cj[@]}")" "$(median "${wj[@]}")" "${cj[*]}"
printf 'ratio zstd/fetch: cpu %s  wall %s  (>1: fetch cheaper / faster)\n' \
  "$(awk -v s="$(median "${cs[@]}")" -v j="$(median "${cj[@]}")" 'BEGIN {printf "%.2f", s/j}')" \
  "$(awk -v s="$(median "${ws[@]}")" -v j="$(median "${wj[@]}")" 'BEGIN {printf "%.2f", s/j}')"
