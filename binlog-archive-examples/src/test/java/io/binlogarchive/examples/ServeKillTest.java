package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.restore.BaseBackup;
import io.binlogarchive.restore.PitrFixture;
import io.binlogarchive.testing.CrashTest;
import io.binlogarchive.testing.MariaDbServer;
import io.binlogarchive.testing.MariaDbTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of a {@code restore serve} process while a real MariaDB replica is in the middle
 * of the plan: the replica is left without its source, saying so, with only whole transactions
 * applied; a new {@code restore serve} on the same port lets it resume and reach the target.
 */
@MariaDbTest
@CrashTest
@DisplayName("SIGKILL of restore serve mid-plan")
class ServeKillTest {
  static final String PASSWORD = "K1ll-serve-pass";
  static final Duration DEADLINE = Duration.ofMinutes(5);
  /** Rows each workload transaction inserts into shop.items, one INSERT statement (one row event) each. */
  static final int ROWS_PER_TXN = 5;
  static final int TXNS = 4000;
  @TempDir Path tmp;
  final Map<Path, NavigableSet<Long>> boundaries = new HashMap<>();

  @Test
  @DisplayName("SIGKILL of restore serve leaves the replica's I/O thread without its source, with a clear error, only"
      + " whole transactions applied; a new serve on the same port lets it resume and reach the source's checksums")
  void killedServeLeavesWholeTransactions() throws Exception {
    PitrFixture.requireTools();
    String uri = "file://" + tmp.resolve("archive");
    Path dump = tmp.resolve("base.sql");
    Path sourceData;
    Map<String, Long> expected;
    List<String> workloadFiles;
    try (MariaDbServer source = MariaDbServer.start(tmp.resolve("source"), "--innodb-flush-log-at-trx-commit=2")) {
      source.exec("CREATE DATABASE shop",
          "CREATE TABLE shop.items (id INT PRIMARY KEY AUTO_INCREMENT, txn INT NOT NULL, pad VARCHAR(1000))"
              + " ENGINE=InnoDB",
          "CREATE TABLE shop.totals (id INT PRIMARY KEY, txns INT NOT NULL, items INT NOT NULL) ENGINE=InnoDB",
          "INSERT INTO shop.totals VALUES (1, 0, 0)",
          // many small transactions, each several row events: 5 inserts and the totals row that counts them
          "CREATE PROCEDURE shop.work(n INT) BEGIN DECLARE i INT DEFAULT 0; WHILE i < n DO START TRANSACTION;"
              + " INSERT INTO shop.items (txn, pad) VALUES (i, REPEAT(CHAR(97 + i % 26), 1000));".repeat(ROWS_PER_TXN)
              + " UPDATE shop.totals SET txns = txns + 1, items = items + " + ROWS_PER_TXN + " WHERE id = 1;"
              + " COMMIT; SET i = i + 1; END WHILE; END");
      BaseBackup base = PitrFixture.dump(source, "base", dump);
      ServeCliTest.ok("backup", "register", "--from", uri, "--name", "base", "--file", base.file(), "--position",
          Long.toString(base.position()), "--gtid", base.gtid());
      source.exec("CALL shop.work(" + TXNS + ")");
      expected = PitrFixture.checksums(source);
      List<String> logs = source.binaryLogs();
      workloadFiles = logs.subList(logs.indexOf(base.file()), logs.size());
      source.flushLogs();
      ServeCliTest.ok("archive", "--binlog-dir", source.dataDir().toString(), "--index",
          source.indexFile().toString(), "--to", uri, "--cursor", tmp.resolve("cursor.json").toString());
      sourceData = source.dataDir();
    }
    assertThat(workloadFiles).as("a workload of several binlog files").hasSizeGreaterThan(5);
    // the replica stops applying a fifth of the way in, at the first commit of that file
    String untilFile = workloadFiles.get(workloadFiles.size() / 5);
    long untilPos = boundaries(sourceData.resolve(untilFile)).stream().filter(p -> p > 4).findFirst().orElseThrow();
    Path password = Files.writeString(tmp.resolve("password"), PASSWORD + "\n", StandardCharsets.UTF_8);

    // the relay log may hold 64 KiB: its I/O thread then waits for the SQL thread, leaving the rest of the plan
    // in serve (and in the sockets' buffers) rather than in the replica's relay log
    try (MariaDbServer replica = MariaDbServer.start(tmp.resolve("replica"), "--server-id=7", "--skip-log-bin",
        "--innodb-flush-log-at-trx-commit=2", "--max-relay-log-size=16384", "--relay-log-space-limit=65536")) {
      PitrFixture.load(replica, dump);
      Path out1 = tmp.resolve("serve1.out");
      Path err1 = tmp.resolve("serve1.err");
      Process serve = serve("127.0.0.1:0", password, out1, err1);
      int port;
      try {
        String change = awaitLine(serve, out1, err1, l -> l.startsWith("CHANGE MASTER TO "), "the CHANGE MASTER statement");
        Matcher m = Pattern.compile("MASTER_PORT=(\\d+)").matcher(change);
        assertThat(m.find()).as(change).isTrue();
        port = Integer.parseInt(m.group(1));
        assertThat(change).as("the password is not printed").doesNotContain(PASSWORD);
        replica.exec(change.replaceAll(";$", "").replaceAll("MASTER_PASSWORD='[^']*'", "MASTER_PASSWORD='" + PASSWORD + "'")
                + ", MASTER_CONNECT_RETRY=1",
            "START SLAVE UNTIL MASTER_LOG_FILE='" + untilFile + "', MASTER_LOG_POS=" + untilPos);
        Map<String, String> s = await(replica, serve, err1, "the SQL thread stopped at the UNTIL position and the I/O"
            + " thread waiting for relay log space",
            st -> "No".equals(st.get("Slave_SQL_Running"))
                && st.get("Slave_IO_State").contains("free enough relay log space"));
        assertThat(s.get("Last_SQL_Error")).isEmpty();
        assertThat(s.get("Relay_Master_Log_File")).isEqualTo(untilFile);
        assertThat(Long.parseLong(s.get("Exec_Master_Log_Pos"))).isGreaterThanOrEqualTo(untilPos);
      } finally {
        serve.destroyForcibly(); // SIGKILL while serve still has most of the plan to send
        assertThat(serve.waitFor(60, TimeUnit.SECONDS)).isTrue();
      }
      assertThat(serve.exitValue()).as("killed by SIGKILL").isEqualTo(128 + 9);

      // the SQL thread applies what the relay log holds; once the I/O thread has lost its source nothing more comes,
      // and the SQL thread settles on the last transaction boundary at or before what it received
      replica.exec("START SLAVE SQL_THREAD");
      Map<String, String> s = await(replica, null, err1, "the replica applied all it received and lost its source",
          st -> !"Yes".equals(st.get("Slave_IO_Running")) && !st.get("Last_IO_Error").isEmpty()
              && st.get("Slave_SQL_Running_State").contains("has read all relay log") && settled(sourceData, st));
      assertThat(s.get("Slave_IO_Running")).isIn("Connecting", "No");
      assertThat(s.get("Last_IO_Error")).as("the I/O thread's error")
          .containsPattern("(?i)(reconnect|connect to|lost connection)").contains("127.0.0.1:" + port);
      assertThat(s.get("Slave_SQL_Running")).isEqualTo("Yes");
      assertThat(s.get("Last_SQL_Errno")).isEqualTo("0");
      assertThat(s.get("Last_SQL_Error")).isEmpty();
      String execFile = s.get("Relay_Master_Log_File");
      long exec = Long.parseLong(s.get("Exec_Master_Log_Pos"));
      assertThat(boundaries(sourceData.resolve(execFile))).as("Exec_Master_Log_Pos %s:%d is a transaction boundary of"
          + " the source's binlog", execFile, exec).contains(exec);
      String readFile = s.get("Master_Log_File");
      long read = Long.parseLong(s.get("Read_Master_Log_Pos"));
      String last = workloadFiles.get(workloadFiles.size() - 1);
      assertThat(readFile.compareTo(last) < 0 || read < Files.size(sourceData.resolve(last)))
          .as("the kill cut the plan short: the replica received up to %s:%d only", readFile, read).isTrue();
      // one statement, one consistent read of what the replica committed
      String[] counts = PitrFixture.firstValue(replica, "SELECT CONCAT_WS(' ', (SELECT COUNT(*) FROM shop.items),"
          + " (SELECT items FROM shop.totals WHERE id = 1), (SELECT txns FROM shop.totals WHERE id = 1),"
          + " (SELECT COUNT(*) FROM (SELECT txn FROM shop.items GROUP BY txn HAVING COUNT(*) <> " + ROWS_PER_TXN
          + ") partial))").split(" ");
      long items = Long.parseLong(counts[0]);
      String where = "applied up to " + execFile + ":" + exec + ", received up to " + readFile + ":" + read;
      assertThat(items).as("rows of whole transactions only (%s)", where).isPositive()
          .isLessThan((long) TXNS * ROWS_PER_TXN);
      assertThat(items % ROWS_PER_TXN).as(where).isZero();
      assertThat(Long.parseLong(counts[1])).as("the totals row agrees (%s)", where).isEqualTo(items);
      assertThat(Long.parseLong(counts[2])).as(where).isEqualTo(items / ROWS_PER_TXN);
      assertThat(Long.parseLong(counts[3])).as("transactions with only some of their rows (%s)", where).isZero();

      // a new serve on the same port: the replica reconnects by itself and reaches the target
      Path out2 = tmp.resolve("serve2.out");
      Path err2 = tmp.resolve("serve2.err");
      Process again = serve("127.0.0.1:" + port, password, out2, err2);
      try {
        String target = awaitLine(again, out2, err2, l -> l.startsWith("target "), "the target line");
        Matcher t = Pattern.compile("^target (\\S+):(\\d+)").matcher(target);
        assertThat(t.find()).as(target).isTrue();
        assertThat(PitrFixture.firstValue(replica, "SELECT MASTER_POS_WAIT('" + t.group(1) + "', " + t.group(2) + ", "
            + DEADLINE.toSeconds() + ")")).as("the replica applied up to %s", target).isNotNull().isNotEqualTo("-1");
        Map<String, String> done = slaveStatus(replica);
        assertThat(done.get("Last_SQL_Error")).isEmpty();
        assertThat(done.get("Slave_IO_Running")).isEqualTo("Yes");
        replica.exec("STOP SLAVE", "RESET SLAVE ALL");
        assertThat(PitrFixture.checksums(replica)).isEqualTo(expected);
        assertThat(PitrFixture.firstValue(replica, "SELECT COUNT(*) FROM shop.items"))
            .isEqualTo(Integer.toString(TXNS * ROWS_PER_TXN));
      } finally {
        again.destroyForcibly();
        again.waitFor(60, TimeUnit.SECONDS);
      }
      assertThat(Files.readString(err1) + Files.readString(err2)).doesNotContain(PASSWORD);
    }
  }

  /** Starts {@code restore serve} of the whole plan in a child JVM. */
  Process serve(String listen, Path password, Path out, Path err) throws Exception {
    return ChildJvm.builder(Map.of(), "restore", "serve", "--from", "file://" + tmp.resolve("archive"), "--backup",
            "base", "--listen", listen, "--password-file", password.toString(), "--spool", tmp.resolve("spool").toString())
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
  }

  /** Polls serve's standard output (bounded, generous) for a line; fails if serve exits first. */
  static String awaitLine(Process serve, Path out, Path err, Predicate<String> wanted, String what) throws Exception {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (true) {
      if (Files.exists(out)) {
        for (String l : Files.readAllLines(out, StandardCharsets.UTF_8)) {
          if (wanted.test(l)) {
            return l;
          }
        }
      }
      if (!serve.isAlive()) {
        throw new AssertionError("serve exited with " + serve.exitValue() + " before " + what + ":\n"
            + Files.readString(err));
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no " + what + " within " + DEADLINE + ":\n" + Files.readString(err));
      }
      serve.waitFor(100, TimeUnit.MILLISECONDS); // returns at once if it exits
    }
  }

  /** Polls SHOW SLAVE STATUS (bounded, generous) until {@code condition} holds; fails if serve (when given) exits. */
  static Map<String, String> await(MariaDbServer replica, Process serve, Path err, String what,
      Predicate<Map<String, String>> condition) throws Exception {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (true) {
      Map<String, String> s = slaveStatus(replica);
      if (condition.test(s)) {
        return s;
      }
      if (serve != null && !serve.isAlive()) {
        throw new AssertionError("serve exited with " + serve.exitValue() + " before " + what + ":\n"
            + Files.readString(err));
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not " + what + " within " + DEADLINE + ": " + s);
      }
      if (serve != null) {
        serve.waitFor(50, TimeUnit.MILLISECONDS); // a polling interval; returns at once if serve exits
      } else {
        TimeUnit.MILLISECONDS.sleep(50); // a polling interval, not a synchronisation
      }
    }
  }

  static Map<String, String> slaveStatus(MariaDbServer replica) throws SQLException {
    Map<String, String> out = replica.slaveStatus();
    assertThat(out).as("the replica has a slave status").isNotEmpty();
    return out;
  }

  /**
   * Whether the SQL thread applied everything whole that the I/O thread received: it is at the last
   * transaction boundary at or before the received position (or the received file has none yet).
   */
  boolean settled(Path sourceData, Map<String, String> st) {
    try {
      Long floor = boundaries(sourceData.resolve(st.get("Master_Log_File")))
          .floor(Long.parseLong(st.get("Read_Master_Log_Pos")));
      return floor == null || st.get("Relay_Master_Log_File").equals(st.get("Master_Log_File"))
          && Long.parseLong(st.get("Exec_Master_Log_Pos")) == floor;
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /**
   * The transaction boundaries of a binlog file as {@code mariadb-binlog} decodes it: where each GTID
   * event starts and where each XID (commit) event ends.
   */
  NavigableSet<Long> boundaries(Path binlog) throws Exception {
    NavigableSet<Long> known = boundaries.get(binlog);
    if (known != null) {
      return known;
    }
    Path text = tmp.resolve(binlog.getFileName() + ".txt");
    List<String> cmd = List.of("mariadb-binlog", "--base64-output=decode-rows", binlog.toString());
    PitrFixture.run(cmd, null, text);
    NavigableSet<Long> out = new TreeSet<>();
    Pattern at = Pattern.compile("^# at (\\d+)$");
    Pattern header = Pattern.compile("end_log_pos (\\d+) .*\\t(GTID |Xid = )");
    long eventStart = -1;
    for (String l : Files.readAllLines(text, StandardCharsets.UTF_8)) {
      Matcher a = at.matcher(l);
      if (a.matches()) {
        eventStart = Long.parseLong(a.group(1));
        continue;
      }
      Matcher h = header.matcher(l);
      if (l.startsWith("#") && h.find()) {
        out.add(h.group(2).startsWith("GTID") ? eventStart : Long.parseLong(h.group(1)));
      }
    }
    assertThat(out).as("boundaries found in %s", binlog).isNotEmpty();
    boundaries.put(binlog, out);
    return out;
  }
}
