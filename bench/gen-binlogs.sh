#!/usr/bin/env bash
# Generates real MariaDB binlogs of about 100 MB each for the benchmarks (never committed).
# Usage: bench/gen-binlogs.sh OUT_DIR [FILES] [KIND]   (default 3 closed files)
#   KIND: oltp (default: hex strings, zstd -3 compresses them about 2.6x) or repetitive (rows that
#   repeat a few values, as many real tables do; zstd -3 compresses them about 8x)
set -euo pipefail
out=${1:?usage: gen-binlogs.sh OUT_DIR [FILES] [KIND]}
files=${2:-3}
kind=${3:-oltp}
export PATH="$PATH:/usr/sbin"
work=$(mktemp -d)
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; wait; rm -rf "$work"' EXIT
mariadb-install-db --no-defaults --datadir="$work/data" --user=root --auth-root-authentication-method=normal \
  --skip-test-db >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mariadbd --no-defaults --datadir="$work/data" --user=root --bind-address=127.0.0.1 --port="$port" \
  --socket="$work/sock" --pid-file="$work/pid" --log-error="$work/err.log" --skip-name-resolve --server-id=1 \
  --log-bin=mysql-bin --binlog-format=ROW --max-binlog-size=100M --gtid-strict-mode=1 \
  --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci --innodb-buffer-pool-size=256M \
  --innodb-flush-log-at-trx-commit=0 --sync-binlog=0 &
for _ in $(seq 600); do mariadb-admin --socket="$work/sock" -uroot ping >/dev/null 2>&1 && break; sleep 0.1; done
sql() { mariadb --socket="$work/sock" -uroot -D mysql -e "$1"; }
sql "CREATE DATABASE bench; CREATE TABLE bench.t (id BIGINT PRIMARY KEY AUTO_INCREMENT, k INT, c CHAR(120), pad VARCHAR(255), ts DATETIME) ENGINE=InnoDB"
# OLTP-like rows: numbers, hex strings and repeated padding
rows="FLOOR(RAND()*100000), MD5(RAND()), CONCAT(REPEAT('x', FLOOR(RAND()*60)), SHA1(RAND())), NOW()"
if [ "$kind" = repetitive ]; then
  # a few distinct values per column: status codes, customer names, padding, a coarse time
  rows="FLOOR(RAND()*100), CONCAT('customer-', FLOOR(RAND()*50), '-region-', FLOOR(RAND()*5)),
        CONCAT('status=', ELT(1 + FLOOR(RAND()*3), 'open', 'paid', 'shipped'), REPEAT(' ', 40)), '2026-12-06 00:00:00'"
fi
sql "INSERT INTO bench.t (k, c, pad, ts) SELECT $rows FROM seq_1_to_20000"
while :; do
  n=$(mariadb --socket="$work/sock" -uroot -N -e "SHOW BINARY LOGS" | wc -l)
  [ "$n" -gt "$files" ] && break
  sql "INSERT INTO bench.t (k, c, pad, ts) SELECT $rows FROM seq_1_to_20000;
       UPDATE bench.t SET k = k + 1 WHERE id % 97 = FLOOR(RAND()*97) LIMIT 5000;
       DELETE FROM bench.t WHERE id % 101 = FLOOR(RAND()*101) LIMIT 2000;"
done
mkdir -p "$out"
mariadb --socket="$work/sock" -uroot -N -e "SHOW BINARY LOGS" | head -n "$((files + 1))" | while read -r name size; do
  cp "$work/data/$name" "$out/"
done
( cd "$out" && ls mysql-bin.[0-9]* | sort | sed 's|^|./|' > mysql-bin.index && ls -la )
