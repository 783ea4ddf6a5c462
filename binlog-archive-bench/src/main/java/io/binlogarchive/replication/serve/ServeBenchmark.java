package io.binlogarchive.replication.serve;

import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.Archiver;
import io.binlogarchive.restore.BaseBackup;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.restore.FetchResult;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.MariaDbServer;
import io.binlogarchive.restore.PitrFixture;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.codec.Transform;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Benchmark runner (not a unit test): the same archived workload of small OLTP transactions
 * restored into a fresh server (a) by {@code restore fetch} + {@code mariadb-binlog | mariadb} and
 * (b) by serve, with a serial and (c) a parallel replica, each also connected by GTID with no periodic
 * syncs of the replication files, (d) by relay-log mode; wall time from the start to the target
 * applied, the fetch included; every restored server's checksums must equal the source's.
 *
 * <p>{@code java -cp ... io.binlogarchive.replication.serve.ServeBenchmark WORKDIR [TRANSACTIONS]
 * [FLUSH [ROUNDS]]} (default 300000 transactions, about 110 MB of binlog; 2 rounds; FLUSH is the restored servers'
 * {@code innodb_flush_log_at_trx_commit}, default 2, the same for every method).
 */
public final class ServeBenchmark {
  private static int flush;
  /** What a tuned replica sets before it starts: the defaults are 10000 each. */
  static final String RELAXED_SYNCS = "SET GLOBAL sync_relay_log = 0, sync_master_info = 0, sync_relay_log_info = 0";

  private ServeBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path work = Path.of(args.length > 0 ? args[0] : "/tmp/serve-bench");
    int transactions = args.length > 1 ? Integer.parseInt(args[1]) : 300_000;
    flush = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 2;
    if (Files.exists(work)) {
      throw new IllegalArgumentException(work + " exists; give a new directory");
    }
    PitrFixture.requireTools();
    FileSystemSink sink = FileSystemSink.of(work.resolve("archive"));
    Path dump = work.resolve("base.sql");
    BaseBackup base;
    Map<String, Long> expected;
    long binlogBytes;
    try (MariaDbServer source = MariaDbServer.start(work.resolve("source"), "--max-binlog-size=64M",
        "--innodb-flush-log-at-trx-commit=0", "--innodb-buffer-pool-size=256M")) {
      source.exec("CREATE DATABASE shop", "USE shop",
          "CREATE TABLE shop.t (id INT PRIMARY KEY AUTO_INCREMENT, k INT, v VARCHAR(200), KEY (k)) ENGINE=InnoDB",
          "CREATE TABLE shop.u (id INT PRIMARY KEY, n BIGINT) ENGINE=InnoDB",
          "INSERT INTO shop.u SELECT seq, 0 FROM seq_1_to_1000",
          "CREATE PROCEDURE shop.oltp(n INT) BEGIN DECLARE i INT DEFAULT 0; WHILE i < n DO"
              + " INSERT INTO shop.t (k, v) VALUES (FLOOR(RAND() * 100000), REPEAT(SHA1(RAND()), 2));"
              + " IF i % 4 = 0 THEN UPDATE shop.u SET n = n + 1 WHERE id = 1 + FLOOR(RAND() * 1000); END IF;"
              + " SET i = i + 1; END WHILE; END");
      base = PitrFixture.dump(source, "base", dump);
      long t0 = System.nanoTime();
      int perCall = 10_000;
      try (Connection c = source.connection(); Statement st = c.createStatement()) {
        for (int done = 0; done < transactions; done += perCall) {
          st.execute("CALL shop.oltp(" + Math.min(perCall, transactions - done) + ")");
        }
      }
      System.out.printf(Locale.ROOT, "workload: %d transactions in %.1f s%n", transactions, (System.nanoTime() - t0) / 1e9);
      expected = PitrFixture.checksums(source);
      source.flushLogs();
      try (Archiver a = Archiver.builder().source(BinlogSource.indexFile(source.indexFile())).sink(sink)
          .serverId("src").cursorFile(work.resolve("cursor.json")).compression(Transform.zstd(3))
          .retryPolicy(RetryPolicy.none()).build()) {
        a.runOnce();
      }
    }
    ArchiveReader reader = ArchiveReader.builder().sink(sink).serverId("src").retryPolicy(RetryPolicy.none()).build();
    RestorePlan plan = reader.plan(base, RestoreTarget.latest());
    binlogBytes = plan.totalBytes();
    System.out.printf(Locale.ROOT, "archived: %d files, %.1f MB of binlog from %s:%d%n", plan.files().size(),
        binlogBytes / 1e6, plan.startFile(), plan.startPosition());

    List<String> rows = new ArrayList<>();
    // alternate the methods so that a slower phase of the shared machine does not favour one
    for (int round = 1; round <= rounds; round++) {
      rows.add(String.format(Locale.ROOT, "round %d  mariadb-binlog | mariadb : %6.1f s", round,
          replay(reader, plan, dump, work.resolve("replay-" + round), expected)));
      rows.add(String.format(Locale.ROOT, "round %d  serve, serial replica       : %6.1f s", round,
          serve(reader, plan, dump, work.resolve("serve-" + round), expected, false)));
      rows.add(String.format(Locale.ROOT, "round %d  serve, serial, GTID + no sync: %6.1f s", round,
          serve(reader, plan, dump, work.resolve("serve-tuned-" + round), expected, true)));
      rows.add(String.format(Locale.ROOT, "round %d  serve, parallel replica (2) : %6.1f s", round,
          serve(reader, plan, dump, work.resolve("serve-par-" + round), expected, false, "--slave-parallel-threads=2",
              "--slave-parallel-mode=optimistic")));
      rows.add(String.format(Locale.ROOT, "round %d  serve, parallel, GTID + no sync: %6.1f s", round,
          serve(reader, plan, dump, work.resolve("serve-par-tuned-" + round), expected, true,
              "--slave-parallel-threads=2", "--slave-parallel-mode=optimistic")));
      rows.add(String.format(Locale.ROOT, "round %d  fetch --as-relay-log        : %6.1f s", round,
          relay(reader, plan, dump, work.resolve("relay-" + round), expected)));
    }
    System.out.printf(Locale.ROOT, "%d transactions, %.1f MB of binlog, restored servers with"
        + " innodb_flush_log_at_trx_commit=%d; wall time from start to target applied, fetch included:%n", transactions,
        binlogBytes / 1e6, flush);
    rows.forEach(System.out::println);
  }

  static String[] target(String... extra) {
    List<String> a = new ArrayList<>(List.of("--server-id=2", "--skip-log-bin", "--innodb-buffer-pool-size=256M",
        "--innodb-flush-log-at-trx-commit=" + flush));
    a.addAll(List.of(extra));
    return a.toArray(String[]::new);
  }

  static double replay(ArchiveReader reader, RestorePlan plan, Path dump, Path dir, Map<String, Long> expected)
      throws Exception {
    try (MariaDbServer target = MariaDbServer.start(dir.resolve("server"), target())) {
      PitrFixture.load(target, dump);
      long t0 = System.nanoTime();
      FetchResult f = reader.fetch(plan, dir.resolve("binlogs"));
      PitrFixture.replay(f, target, dir);
      double s = (System.nanoTime() - t0) / 1e9;
      check(PitrFixture.checksums(target), expected, "replay");
      return s;
    }
  }

  /**
   * @param tuned connect by GTID (MariaDB's I/O thread then skips rewriting master.info after every
   *     event) with {@link #RELAXED_SYNCS} (no fsync of the relay log, master.info and
   *     relay-log.info every 10,000 events)
   */
  static double serve(ArchiveReader reader, RestorePlan plan, Path dump, Path dir, Map<String, Long> expected,
      boolean tuned, String... replicaArgs) throws Exception {
    try (MariaDbServer target = MariaDbServer.start(dir.resolve("server"), target(replicaArgs))) {
      PitrFixture.load(target, dump);
      long t0 = System.nanoTime();
      try (BinlogServer server = BinlogServer.builder().reader(reader).plan(plan).spool(dir.resolve("spool"))
          .password("bench".getBytes(StandardCharsets.UTF_8)).build().start()) {
        if (tuned) {
          target.exec(RELAXED_SYNCS);
        }
        target.exec(server.replicaStatements("bench", tuned).toArray(String[]::new));
        ServePosition at = server.awaitTarget(Duration.ofHours(2));
        System.out.printf(Locale.ROOT, "  (serve: every event sent after %.1f s)%n", (System.nanoTime() - t0) / 1e9);
        Long r = ServeFixture.awaitApplied(target, at);
        if (r == null || r < 0) {
          throw new IllegalStateException("the replica did not apply up to " + at + ": "
              + ServeFixture.slaveStatus(target));
        }
      }
      double s = (System.nanoTime() - t0) / 1e9;
      ServeFixture.stopReplica(target);
      check(PitrFixture.checksums(target), expected, "serve");
      return s;
    }
  }

  static double relay(ArchiveReader reader, RestorePlan plan, Path dump, Path dir, Map<String, Long> expected)
      throws Exception {
    try (MariaDbServer target = MariaDbServer.start(dir.resolve("server"), target("--relay-log=relay-bin"))) {
      PitrFixture.load(target, dump);
      long t0 = System.nanoTime();
      RelayLogs relay = RelayLogs.place(reader.fetch(plan, target.dataDir()), "relay-bin");
      target.exec(relay.statements().toArray(String[]::new));
      Map<String, String> status = ServeFixture.slaveStatus(target);
      while (!"No".equals(status.get("Slave_SQL_Running"))) {
        Thread.sleep(20); // a benchmark's poll, light on the 2 cores the server needs
        status = ServeFixture.slaveStatus(target);
      }
      double s = (System.nanoTime() - t0) / 1e9;
      if (!"No".equals(status.get("Slave_SQL_Running")) || !status.get("Last_SQL_Error").isEmpty()) {
        throw new IllegalStateException("relay-log mode did not finish: " + status);
      }
      ServeFixture.stopReplica(target);
      check(PitrFixture.checksums(target), expected, "relay");
      return s;
    }
  }

  static void check(Map<String, Long> actual, Map<String, Long> expected, String what) {
    if (!actual.equals(expected)) {
      throw new IllegalStateException(what + " restored " + actual + " but the source had " + expected);
    }
  }
}
