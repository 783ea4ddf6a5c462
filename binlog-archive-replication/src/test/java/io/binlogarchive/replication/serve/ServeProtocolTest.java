package io.binlogarchive.replication.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.binlogarchive.replication.internal.BinlogEvents;
import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.restore.RestoreFixture;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.replication.internal.PayloadWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server at the protocol level, on the archived MariaDB 10.11 fixture chain (server id 3,
 * GTIDs 0-3-1 onwards, CRC32): what a replica's I/O thread and {@code mariadb-binlog} see.
 */
@DisplayName("The replication-protocol server at the wire")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeProtocolTest {
  static final String PASSWORD = "wire-Pass";
  @TempDir static Path tmp;
  Path binlogs;
  ArchiveReader reader;

  @BeforeAll
  void archive() throws Exception {
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
    binlogs = RestoreFixture.archiveChain(sink, tmp.resolve("work"), 6);
    reader = RestoreFixture.reader(sink);
  }

  BinlogServer start(RestorePlan plan, String name) throws IOException {
    return BinlogServer.builder().reader(reader).plan(plan).spool(tmp.resolve(name))
        .password((PASSWORD + "\n").getBytes(StandardCharsets.UTF_8)).build().start();
  }

  @Test
  @MariaDbTest
  @DisplayName("mariadb-binlog --read-from-remote-server --raw rebuilds the archived files byte for byte through serve")
  void mariadbBinlogRebuildsTheFiles() throws Exception {
    RestorePlan plan = reader.planFrom("mysql-bin.000001", 4, RestoreTarget.latest());
    assertThat(plan.files()).hasSize(5);
    Path out = Files.createDirectories(tmp.resolve("raw"));
    try (BinlogServer server = start(plan, "spool-raw")) {
      ProcessBuilder pb = new ProcessBuilder("mariadb-binlog", "--no-defaults", "--read-from-remote-server", "--raw",
          "--to-last-log", "--host=127.0.0.1", "--port=" + server.address().getPort(), "--user=repl",
          "--result-file=" + out + "/", "mysql-bin.000001").redirectErrorStream(true)
          .redirectOutput(tmp.resolve("raw.log").toFile());
      pb.environment().put("MYSQL_PWD", PASSWORD);
      Process p = pb.start();
      assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(Files.readString(tmp.resolve("raw.log"))).isZero();
      ServePosition end = server.awaitTarget(Duration.ofMinutes(1));
      assertThat(end.file()).as("after the last file's ROTATE").isEqualTo("mysql-bin.000006");
      assertThat(end.position()).isEqualTo(4);
    }
    for (int i = 1; i <= 5; i++) {
      String name = String.format("mysql-bin.%06d", i);
      assertThat(Files.mismatch(out.resolve(name), binlogs.resolve(name))).as(name).isEqualTo(-1L);
    }
  }

  @Test
  @DisplayName("a wrong password is refused with error 1045; the setup queries get result sets with and without CLIENT_DEPRECATE_EOF")
  void loginAndQueries() throws Exception {
    RestorePlan plan = reader.planFrom("mysql-bin.000002", 4, RestoreTarget.latest());
    try (BinlogServer server = start(plan, "spool-queries")) {
      try (TestClient c = new TestClient(server.address(), true)) {
        byte[] answer = c.login("repl", "wrong");
        assertThat(answer[0] & 0xFF).isEqualTo(0xFF);
        assertThat(new String(answer, StandardCharsets.UTF_8)).contains("Access denied for user 'repl'");
      }
      for (boolean deprecateEof : new boolean[] {true, false}) {
        try (TestClient c = new TestClient(server.address(), deprecateEof)) {
          assertThat(c.login("repl", PASSWORD)[0]).isZero();
          assertThat(c.serverVersion).startsWith("5.5.5-10.11.").contains("MariaDB");
          assertThat(c.query("SELECT @@GLOBAL.SERVER_ID")).containsExactly(List.of("3"));
          assertThat(c.query("SHOW VARIABLES LIKE 'SERVER\\_ID'")).containsExactly(List.of("server_id", "3"));
          assertThat(c.query("SET @master_binlog_checksum= @@global.binlog_checksum")).isEmpty();
          assertThat(c.query("SELECT @master_binlog_checksum, @unset, UNIX_TIMESTAMP() AS now").get(0))
              .startsWith("CRC32", null).hasSize(3);
          assertThat(c.query("SELECT @@GLOBAL.gtid_domain_id")).containsExactly(List.of("0"));
          assertThat(c.query("SELECT BINLOG_GTID_POS('mysql-bin.000002', 4)")).containsExactly(
              List.of(plan.files().get(0).binlog().previousGtids()));
          assertThat(c.query("SHOW VARIABLES LIKE 'rpl_semi_sync_master_enabled'")).isEmpty();
          assertThatThrownBy(() -> c.query("SELECT @@GLOBAL.no_such_thing")).isInstanceOf(TestClient.QueryError.class)
              .hasMessageContaining("1193").hasMessageContaining("no_such_thing");
          assertThatThrownBy(() -> c.query("DROP TABLE shop.t")).isInstanceOf(TestClient.QueryError.class)
              .hasMessageContaining("1235").hasMessageContaining("DROP TABLE shop.t");
          assertThatThrownBy(() -> c.query("SET PASSWORD FOR repl = PASSWORD('hunter2')"))
              .isInstanceOf(TestClient.QueryError.class).hasMessageContaining("1235").hasMessageNotContaining("hunter2");
        }
      }
    }
  }

  @Test
  @DisplayName("a dump starts with an artificial ROTATE and the format description (log_pos 0 inside a file), stops at the target and idles with heartbeats")
  void dumpFraming() throws Exception {
    byte[] file2 = Files.readAllBytes(binlogs.resolve("mysql-bin.000002"));
    List<Long> offsets = eventOffsets(file2);
    long start = offsets.get(10);
    long stop = offsets.get(offsets.size() / 2);
    RestorePlan plan = reader.planFrom("mysql-bin.000002", start, RestoreTarget.position("mysql-bin.000002", stop));
    try (BinlogServer server = start(plan, "spool-framing"); TestClient c = new TestClient(server.address(), true)) {
      assertThat(c.login("repl", PASSWORD)[0]).isZero();
      c.query("SET @master_heartbeat_period=1000000");
      c.query("SET @master_binlog_checksum= @@global.binlog_checksum");
      c.dump("mysql-bin.000002", start, 0x02);
      byte[] rotate = c.event();
      assertThat(rotate[4]).isEqualTo((byte) BinlogEvents.ROTATE);
      assertThat(BinlogEvents.logPos(rotate, 0)).isZero();
      assertThat(rotate[17] & BinlogEvents.ARTIFICIAL_FLAG).isNotZero();
      assertThat(BinlogEvents.rotatePosition(rotate, 0)).isEqualTo(start);
      assertThat(BinlogEvents.rotateName(rotate, 0, rotate.length, true)).isEqualTo("mysql-bin.000002");
      byte[] fde = c.event();
      while (fde[4] == BinlogEvents.HEARTBEAT) { // while the file is fetched and proven
        assertThat(BinlogEvents.logPos(fde, 0)).isEqualTo(start);
        fde = c.event();
      }
      assertThat(fde[4]).isEqualTo((byte) BinlogEvents.FORMAT_DESCRIPTION);
      assertThat(BinlogEvents.logPos(fde, 0)).isZero();
      assertThat(crcOk(fde)).isTrue();
      long at = start;
      List<byte[]> events = new ArrayList<>();
      byte[] ev;
      while ((ev = c.event())[4] != BinlogEvents.HEARTBEAT) {
        assertThat(BinlogEvents.logPos(ev, 0)).isEqualTo(at + ev.length);
        assertThat(java.util.Arrays.copyOfRange(file2, (int) at, (int) at + ev.length)).as("event at %d", at)
            .isEqualTo(ev);
        at += ev.length;
        events.add(ev);
      }
      assertThat(at).isLessThanOrEqualTo(stop).isGreaterThan(start);
      assertThat(Events.startsTransaction(file2[(int) at + 4] & 0xFF)).as("stops on a transaction boundary").isTrue();
      assertThat(BinlogEvents.logPos(ev, 0)).isEqualTo(at);
      assertThat(new String(ev, 19, ev.length - 23, StandardCharsets.UTF_8)).isEqualTo("mysql-bin.000002");
      assertThat(crcOk(ev)).isTrue();
      assertThat(server.awaitTarget(Duration.ofMinutes(1)).position()).isEqualTo(at);
    }
  }

  @Test
  @DisplayName("a MariaDB GTID connect skips the transactions the replica has; the file after the plan gets nothing more; a file outside the plan is refused with 1236")
  void gtidConnectAndRefusals() throws Exception {
    RestorePlan plan = reader.planFrom("mysql-bin.000001", 4, RestoreTarget.latest());
    try (BinlogServer server = start(plan, "spool-gtid")) {
      try (TestClient c = new TestClient(server.address(), false)) {
        assertThat(c.login("repl", PASSWORD)[0]).isZero();
        c.query("SET @slave_connect_state='0-3-1000'");
        c.query("SET @master_binlog_checksum= @@global.binlog_checksum");
        c.dump("", 4, 0x02);
        String firstGtid = null;
        byte[] ev;
        while (firstGtid == null && (ev = c.event()) != null) {
          if (ev[4] == (byte) BinlogEvents.MARIADB_GTID) {
            firstGtid = Events.gtid(ev, ev.length, true);
          }
        }
        assertThat(firstGtid).isEqualTo("0-3-1001");
      }
      try (TestClient c = new TestClient(server.address(), false)) {
        assertThat(c.login("repl", PASSWORD)[0]).isZero();
        c.dump("mysql-bin.000006", 4, 0x01);
        byte[] rotate = c.event();
        assertThat(BinlogEvents.rotateName(rotate, 0, rotate.length, false)).as("where the last file's ROTATE leads")
            .isEqualTo("mysql-bin.000006");
        assertThat(c.event()).as("nothing more: the end of a non-blocking dump").isNull();
      }
      try (TestClient c = new TestClient(server.address(), false)) {
        assertThat(c.login("repl", PASSWORD)[0]).isZero();
        c.dump("mysql-bin.000042", 4, 0);
        assertThatThrownBy(c::event).isInstanceOf(TestClient.QueryError.class).hasMessageContaining("1236")
            .hasMessageContaining("no mysql-bin.000042 in its restore plan");
      }
    }
  }

  @Test
  @DisplayName("an artifact deleted after planning ends the dump with 1236 naming it, after the files before it and before any event of its own")
  void missingArtifact() throws Exception {
    Path copy = tmp.resolve("archive-missing");
    io.binlogarchive.restore.PitrFixture.copyTree(tmp.resolve("archive"), copy);
    ArchiveReader damaged = RestoreFixture.reader(FileSystemSink.of(copy));
    RestorePlan plan = damaged.planFrom("mysql-bin.000001", 4, RestoreTarget.latest());
    io.binlogarchive.Sidecar gone = plan.files().get(2);
    Files.delete(copy.resolve(gone.artifact().key()));
    try (BinlogServer server = BinlogServer.builder().reader(damaged).plan(plan).spool(tmp.resolve("spool-missing"))
        .password(PASSWORD.getBytes(StandardCharsets.UTF_8)).build().start();
        TestClient c = new TestClient(server.address(), true)) {
      assertThat(c.login("repl", PASSWORD)[0]).isZero();
      c.query("SET @master_binlog_checksum= @@global.binlog_checksum");
      c.dump("mysql-bin.000001", 4, 0x02);
      List<String> fdeFiles = new ArrayList<>();
      String current = null;
      TestClient.QueryError error = null;
      try {
        byte[] ev;
        while ((ev = c.event()) != null) {
          if (ev[4] == BinlogEvents.ROTATE) {
            current = BinlogEvents.rotateName(ev, 0, ev.length, true);
          } else if (ev[4] == BinlogEvents.FORMAT_DESCRIPTION) {
            fdeFiles.add(current);
          }
        }
      } catch (TestClient.QueryError e) {
        error = e;
      }
      assertThat(error).isNotNull();
      assertThat(error.code).isEqualTo(1236);
      assertThat(error.getMessage()).contains("stopped before " + gone.file(), gone.artifact().key());
      assertThat(fdeFiles).as("files whose events were sent").containsExactly("mysql-bin.000001", "mysql-bin.000002");
      assertThatThrownBy(() -> server.awaitTarget(Duration.ofMinutes(1))).hasMessageContaining(gone.artifact().key());
    }
  }

  @Test
  @DisplayName("the spool takes only what its free space holds: a file larger than it is refused with a clear error")
  void spoolFreeSpace() throws Exception {
    RestorePlan plan = reader.planFrom("mysql-bin.000001", 4, RestoreTarget.latest());
    long first = plan.files().get(0).size();
    try (ArchiveFeed feed = new ArchiveFeed(reader, plan, tmp.resolve("spool-small"), 3, 2, d -> first - 1)) {
      assertThatThrownBy(() -> feed.await(0, TimeUnit.MINUTES.toNanos(1)))
          .isInstanceOf(io.binlogarchive.ArchiveException.class)
          .hasMessageContaining("not enough free space in the spool").hasMessageContaining("mysql-bin.000001");
    }
    try (ArchiveFeed feed = new ArchiveFeed(reader, plan, tmp.resolve("spool-one"), 3, 2, d -> first)) {
      ArchiveFeed.Ready r = feed.await(0, TimeUnit.MINUTES.toNanos(1));
      assertThat(Files.mismatch(r.path(), binlogs.resolve("mysql-bin.000001"))).isEqualTo(-1L);
      try (var files = Files.list(tmp.resolve("spool-one"))) {
        assertThat(files.map(p -> p.getFileName().toString()).toList()).as("nothing fetched beyond the space")
            .containsExactly("mysql-bin.000001");
      }
    }
  }

  @Test
  @DisplayName("relay-log placement of the latest point: the files renamed and indexed, UNTIL the last file's closing ROTATE; an existing index is refused")
  void relayLogPlacement() throws Exception {
    RestorePlan plan = reader.planFrom("mysql-bin.000002", 4, RestoreTarget.latest());
    Path dir = tmp.resolve("relay-data");
    RelayLogs relay = RelayLogs.place(reader.fetch(plan, dir), "relay-bin");
    assertThat(relay.files()).extracting(p -> p.getFileName().toString())
        .containsExactly("relay-bin.000001", "relay-bin.000002", "relay-bin.000003", "relay-bin.000004");
    assertThat(Files.readString(dir.resolve("relay-bin.index")))
        .isEqualTo("./relay-bin.000001\n./relay-bin.000002\n./relay-bin.000003\n./relay-bin.000004\n");
    assertThat(Files.mismatch(dir.resolve("relay-bin.000004"), binlogs.resolve("mysql-bin.000005"))).isEqualTo(-1L);
    byte[] last = Files.readAllBytes(binlogs.resolve("mysql-bin.000005"));
    List<Long> offsets = eventOffsets(last);
    long rotate = offsets.get(offsets.size() - 1);
    assertThat(last[(int) rotate + 4]).isEqualTo((byte) BinlogEvents.ROTATE);
    assertThat(relay.stopPosition()).isEqualTo(rotate);
    assertThat(relay.statements()).containsExactly(
        "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=1, MASTER_USER='relay-log-mode', MASTER_USE_GTID=no,"
            + " RELAY_LOG_FILE='relay-bin.000001', RELAY_LOG_POS=4",
        "START SLAVE SQL_THREAD UNTIL RELAY_LOG_FILE='relay-bin.000004', RELAY_LOG_POS=" + rotate);
    assertThatThrownBy(() -> RelayLogs.place(reader.fetch(plan, dir), "relay-bin")).isInstanceOf(IOException.class)
        .hasMessageContaining("relay-bin.index exists");
  }

  @Test
  @DisplayName("a file a crash tore inside an event is read up to its last complete event (its sidecar's end), and named when read past it")
  void tornTail() throws Exception {
    byte[] whole = Files.readAllBytes(binlogs.resolve("mysql-bin.000002"));
    List<Long> offsets = eventOffsets(whole);
    long lastWhole = offsets.get(offsets.size() - 3);
    Path torn = tmp.resolve("torn.000002");
    Files.write(torn, java.util.Arrays.copyOf(whole, (int) lastWhole + 10));
    int events = 0;
    try (EventReader r = new EventReader(torn, 4, lastWhole)) {
      while (r.next()) {
        events++;
      }
      assertThat(r.end()).isEqualTo(lastWhole);
    }
    assertThat(events).isEqualTo(offsets.size() - 3);
    assertThatThrownBy(() -> {
      try (EventReader r = new EventReader(torn, 4)) {
        while (r.next()) {
          r.length();
        }
      }
    }).isInstanceOf(IOException.class).hasMessageContaining("torn.000002").hasMessageContaining("offset " + lastWhole);
  }

  @Test
  @DisplayName("COM_BINLOG_DUMP_GTID's encoded GTID set (MySQL) is read as the set of transactions to skip")
  void mysqlGtidSet() {
    String uuid = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    byte[] sid = new byte[16];
    String hex = uuid.replace("-", "");
    for (int i = 0; i < 16; i++) {
      sid[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
    }
    byte[] encoded = new PayloadWriter().fixed(1, 8).bytes(sid).fixed(2, 8).fixed(1, 8).fixed(6, 8).fixed(10, 8)
        .fixed(11, 8).toByteArray();
    GtidFilter f = GtidFilter.mySql(encoded);
    assertThat(f.has(uuid + ":1")).isTrue();
    assertThat(f.has(uuid + ":5")).isTrue();
    assertThat(f.has(uuid + ":6")).isFalse();
    assertThat(f.has(uuid + ":10")).isTrue();
    assertThat(f.has(uuid + ":11")).isFalse();
    assertThat(GtidFilter.mySql(new byte[0]).has(uuid + ":1")).isFalse();
  }

  static List<Long> eventOffsets(byte[] file) {
    List<Long> out = new ArrayList<>();
    long at = 4;
    while (at < file.length) {
      out.add(at);
      at += BinlogEvents.u32(file, (int) at + 9);
    }
    return out;
  }

  static boolean crcOk(byte[] ev) {
    java.util.zip.CRC32 c = new java.util.zip.CRC32();
    c.update(ev, 0, ev.length - 4);
    return c.getValue() == BinlogEvents.u32(ev, ev.length - 4);
  }
}
