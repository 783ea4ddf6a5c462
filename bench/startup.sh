#!/usr/bin/env bash
# Start-up cost of one-shot commands (issue 16): CPU seconds (user + sys) and wall time of
# `status` and of an `archive` with nothing to do, through the distribution's launcher against
# `java -Xmx64m -jar binlog-archive.jar`, alternately in the same run, medians.
# Usage: bench/startup.sh [RUNS] [JAR]   (JAR: the "before" jar; default the shaded jar of this tree)
set -euo pipefail
runs=${1:-7}
root="$(cd "$(dirname "$0")/.." && pwd)"
jar=${2:-$root/binlog-archive-examples/target/binlog-archive.jar}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
tar xzf "$(ls "$root"/binlog-archive-examples/target/binlog-archive-*.tar.gz)" -C "$work"
launcher=$(ls -d "$work"/binlog-archive-*/)bin/binlog-archive
export BINLOG_ARCHIVE_CDS_DIR="$work/cds"
sample="$root/binlog-archive-examples/sample"
/usr/bin/time -o "$work/first" -f '%U %S %e' "$launcher" archive --binlog-dir "$sample" --to "file://$work/a" \
  --cursor "$work/c.json" 2>/dev/null >/dev/null
echo "first run of the launcher (trains and dumps the CDS archive, then archives the sample): user sys wall $(cat "$work/first")"
cpu() { /usr/bin/time -f '%U %S %e' "$@" 2>&1 >/dev/null | tail -1; }
declare -A c w
for i in $(seq "$runs"); do
  for v in jar-status dist-status jar-archive dist-archive; do
    case $v in
      jar-status) r=$(cpu java -Xmx64m -jar "$jar" status --from "file://$work/a") ;;
      dist-status) r=$(cpu "$launcher" status --from "file://$work/a") ;;
      jar-archive) r=$(cpu java -Xmx64m -jar "$jar" archive --binlog-dir "$sample" --to "file://$work/a" --cursor "$work/c.json") ;;
      dist-archive) r=$(cpu "$launcher" archive --binlog-dir "$sample" --to "file://$work/a" --cursor "$work/c.json") ;;
    esac
    c[$v]+=" $(awk '{print $1 + $2}' <<<"$r")"; w[$v]+=" $(awk '{print $3}' <<<"$r")"
  done
done
median() { printf '%s\n' $@ | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "runs: $runs, medians; load: $(cut -d' ' -f1-3 /proc/loadavg)"
for v in jar-status dist-status jar-archive dist-archive; do
  printf '%-13s cpu %5s s  wall %5s s   (cpu:%s)\n' "$v" "$(median ${c[$v]})" "$(median ${w[$v]})" "${c[$v]}"
done
for k in status archive; do
  echo "$k: dist/jar cpu $(awk -v a="$(median ${c[dist-$k]})" -v b="$(median ${c[jar-$k]})" 'BEGIN {printf "%.2f", a/b}')"
done
