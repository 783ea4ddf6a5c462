package io.binlogarchive.replication.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.binlogarchive.Archiver;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.SegmentArchiver;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.replication.internal.BinlogEvents;
import io.binlogarchive.replication.live.TestCertificates;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.restore.BaseBackup;
import io.binlogarchive.restore.PitrFixture;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.testing.MariaDbServer;
import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.testing.SlowTest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Serving a plan whose tail the live stream archived only as segments: closed files whole, then the
 * open file as its segments concatenated, each proven before any of its events reaches a real
 * MariaDB replica. Transactions that exist only in segments must reach the replica, and serving
 * must stop exactly at a target inside them.
 */
@SlowTest
@MariaDbTest
@DisplayName("Serving the live stream's segments after the last closed file")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeSegmentsTest {
  @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS) static Path tmp;
  MariaDbServer source;
  Path archive;
  Path dump;
  String openFile;
  List<Sidecar> segments;
  long midPosition;
  String midGtid;
  Map<String, Long> checksumsAtMid;
  Map<String, Long> checksumsAtEnd;

  @BeforeAll
  void sourceWithSegments() throws Exception {
    PitrFixture.requireTools();
    source = MariaDbServer.start(tmp.resolve("source"));
    archive = tmp.resolve("archive");
    Sink sink = FileSystemSink.of(archive);
    source.exec("CREATE DATABASE shop", "CREATE TABLE shop.marker (round INT PRIMARY KEY, v VARCHAR(40)) ENGINE=InnoDB");
    source.load("shop", 400, 1);
    dump = tmp.resolve("base.sql");
    BaseBackup base = PitrFixture.dump(source, "base", dump);
    source.load("shop", 600, 2);
    source.flushLogs();
    source.load("shop", 600, 3);
    source.flushLogs();
    openFile = source.binaryLogs().get(source.binaryLogs().size() - 1);
    try (Archiver archiver = Archiver.builder().source(BinlogSource.indexFile(source.indexFile())).sink(sink)
        .serverId("src").cursorFile(tmp.resolve("cursor.json")).compression(Transform.zstd(3))
        .retryPolicy(RetryPolicy.none()).build();
        SegmentArchiver live = SegmentArchiver.builder(archiver).directory(source.dataDir()).maxBytes(16 * 1024)
            .build()) {
      assertThat(archiver.runOnce().failure()).isNull(); // every closed file, whole
      for (int round = 0; round < 6; round++) {
        source.load("shop", 200, 10 + round);
        source.exec("INSERT INTO shop.marker VALUES (" + round + ", 'only-in-segments')",
            "UPDATE shop.t SET k = k + " + round + " WHERE id % 7 = " + round);
        if (round == 2) {
          String[] master = masterStatus();
          assertThat(master[0]).isEqualTo(openFile);
          midPosition = Long.parseLong(master[1]);
          midGtid = PitrFixture.gtidBinlogPos(source);
          checksumsAtMid = PitrFixture.checksums(source);
        }
        live.durable(openFile, Files.size(source.dataDir().resolve(openFile)));
        live.flush();
      }
      checksumsAtEnd = PitrFixture.checksums(source);
      assertThat(live.lastSegment()).hasValueSatisfying(s -> assertThat(s.segment().end())
          .isEqualTo(Long.parseLong(masterStatusUnchecked()[1])));
    }
    reader().maintenance().registerBaseBackup(base);
    segments = reader().plan("base", RestoreTarget.latest()).segmentsOf(openFile);
  }

  @AfterAll
  void stopSource() throws Exception {
    if (source != null) {
      source.close();
    }
  }

  ArchiveReader reader() {
    return reader(archive);
  }

  static ArchiveReader reader(Path root) {
    return ArchiveReader.builder().sink(FileSystemSink.of(root)).serverId("src").retryPolicy(RetryPolicy.none())
        .parallelism(2).build();
  }

  String[] masterStatus() throws Exception {
    try (Connection c = source.connection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SHOW MASTER STATUS")) {
      assertThat(rs.next()).isTrue();
      return new String[] {rs.getString(1), rs.getString(2)};
    }
  }

  String[] masterStatusUnchecked() {
    try {
      return masterStatus();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  @DisplayName("to the latest: closed files, then the open file from its segments; the replica holds the source's checksums and every marker row")
  void latestIncludesSegments() throws Exception {
    RestorePlan plan = reader().plan("base", RestoreTarget.latest());
    assertThat(plan.files().size()).as("closed files before the open one").isGreaterThanOrEqualTo(3);
    assertThat(plan.lastFile()).isEqualTo(openFile);
    assertThat(segments.size()).as("several segments (16 KiB cap)").isGreaterThan(3);
    assertThat(checksumsAtEnd).isNotEqualTo(checksumsAtMid).containsKey("marker");
    assertThat(restore(reader(), plan, "latest", false)).isEqualTo(checksumsAtEnd);
  }

  @Test
  @DisplayName("at the wire: after the last closed file's ROTATE, the open file's format description with its in-use flag cleared, then its events byte for byte up to the last segment's end, then EOF (non-blocking dump)")
  void wire() throws Exception {
    RestorePlan plan = reader().plan("base", RestoreTarget.latest());
    byte[] open = Files.readAllBytes(source.dataDir().resolve(openFile));
    assertThat(open[21] & BinlogEvents.IN_USE_FLAG).as("the server's open file, and so its first segment, is marked in use")
        .isNotZero();
    long end = segments.get(segments.size() - 1).segment().end();
    try (BinlogServer server = server(reader(), plan, tmp.resolve("wire-spool"));
        TestClient c = new TestClient(server.address(), true)) {
      assertThat(c.login("repl", ServeFixture.PASSWORD)[0]).isZero();
      c.query("SET @master_binlog_checksum= @@global.binlog_checksum");
      c.dump(plan.startFile(), plan.startPosition(), 0x01 | 0x02);
      String file = null;
      byte[] ev;
      while (true) {
        ev = c.event();
        assertThat(ev).as("the dump reaches %s", openFile).isNotNull();
        if (ev[4] == BinlogEvents.ROTATE) {
          file = BinlogEvents.rotateName(ev, 0, ev.length, true);
        } else if (ev[4] == BinlogEvents.FORMAT_DESCRIPTION && openFile.equals(file)) {
          break;
        }
      }
      assertThat(ev[17] & BinlogEvents.IN_USE_FLAG).as("in-use flag of the open file's format description").isZero();
      assertThat(ServeProtocolTest.crcOk(ev)).as("its checksum recomputed").isTrue();
      ev[17] |= BinlogEvents.IN_USE_FLAG;
      assertThat(java.util.Arrays.copyOfRange(ev, 0, ev.length - 4))
          .isEqualTo(java.util.Arrays.copyOfRange(open, 4, 4 + ev.length - 4));
      long at = 4 + ev.length;
      while ((ev = c.event()) != null) {
        assertThat(java.util.Arrays.copyOfRange(open, (int) at, (int) at + ev.length)).as("event at %d", at).isEqualTo(ev);
        at += ev.length;
      }
      assertThat(at).as("everything up to the last segment's end, nothing after").isEqualTo(end);
      ServePosition target = server.awaitTarget(Duration.ofMinutes(1));
      assertThat(target.file()).isEqualTo(openFile);
      assertThat(target.position()).isEqualTo(end);
    }
  }

  @Test
  @DisplayName("to a position inside the segments (SHOW MASTER STATUS mid-way): the replica stops there with the checksums then")
  void positionInsideSegments() throws Exception {
    RestorePlan plan = reader().plan("base", RestoreTarget.position(openFile, midPosition));
    assertThat(segments.get(0).segment().end()).as("the target lies beyond the first segment").isLessThan(midPosition);
    assertThat(segments.get(segments.size() - 1).segment().start()).isGreaterThan(midPosition);
    assertThat(restore(reader(), plan, "position", false)).isEqualTo(checksumsAtMid);
  }

  @Test
  @DisplayName("to a GTID inside the segments, the replica connecting by GTID over TLS (MASTER_SSL=1, which serve then requires): it stops after that transaction")
  void gtidInsideSegmentsOverTls() throws Exception {
    RestorePlan plan = reader().plan("base", RestoreTarget.gtid(midGtid));
    assertThat(plan.lastFile()).isEqualTo(openFile);
    TestCertificates certs = TestCertificates.make(tmp.resolve("certs"));
    BinlogServer.Builder tls = builder(reader(), plan, tmp.resolve("gtid").resolve("spool"))
        .tls(certs.serverCertificate(), certs.serverKey());
    assertThat(restore(tls, "gtid", true)).isEqualTo(checksumsAtMid);
  }

  @Test
  @DisplayName("a tampered segment stops the serve with error 1236 naming it before any event of the open file reaches the replica")
  void tamperedSegment() throws Exception {
    Path copy = tmp.resolve("archive-tampered");
    PitrFixture.copyTree(archive, copy);
    Sidecar damaged = segments.get(segments.size() / 2);
    PitrFixture.tamper(copy.resolve(damaged.artifact().key()));
    ArchiveReader reader = reader(copy);
    RestorePlan plan = reader.plan("base", RestoreTarget.latest());
    Path work = Files.createDirectories(tmp.resolve("tampered"));
    try (MariaDbServer replica = MariaDbServer.start(work.resolve("server"), "--server-id=2", "--skip-log-bin")) {
      PitrFixture.load(replica, dump);
      try (BinlogServer server = server(reader, plan, work.resolve("spool"))) {
        ServeFixture.startReplica(replica, server, false);
        assertThatThrownBy(() -> server.awaitTarget(Duration.ofMinutes(5))).isInstanceOf(IOException.class)
            .hasMessageContaining(damaged.artifact().key());
        Map<String, String> status = ServeFixture.awaitIoThread(replica, "No");
        assertThat(status.get("Last_IO_Errno")).isEqualTo("1236");
        assertThat(status.get("Last_IO_Error")).contains("binlog-archive serve stopped before " + openFile)
            .contains(damaged.artifact().key());
        assertThat(status.get("Master_Log_File")).isEqualTo(openFile);
        assertThat(status.get("Read_Master_Log_Pos")).as("nothing of %s was read", openFile).isEqualTo("4");
        assertThat(work.resolve("spool").resolve(openFile)).doesNotExist();
      }
    }
  }

  /** A fresh replica loaded with the base dump, served the plan until it applied the target: its checksums. */
  Map<String, Long> restore(ArchiveReader reader, RestorePlan plan, String name, boolean useGtid) throws Exception {
    return restore(builder(reader, plan, tmp.resolve(name).resolve("spool")), name, useGtid);
  }

  Map<String, Long> restore(BinlogServer.Builder serve, String name, boolean useGtid) throws Exception {
    Path work = Files.createDirectories(tmp.resolve(name));
    try (MariaDbServer replica = MariaDbServer.start(work.resolve("server"), "--server-id=2", "--skip-log-bin")) {
      PitrFixture.load(replica, dump);
      try (BinlogServer server = serve.build().start()) {
        ServeFixture.startReplica(replica, server, useGtid);
        ServePosition at = server.awaitTarget(Duration.ofMinutes(5));
        assertThat(at.file()).isEqualTo(openFile);
        assertThat(ServeFixture.awaitApplied(replica, at)).as("MASTER_POS_WAIT for %s; %s", at,
            ServeFixture.slaveStatus(replica)).isNotNull().isNotNegative();
        Map<String, String> status = ServeFixture.slaveStatus(replica);
        assertThat(status.get("Last_IO_Error")).isEmpty();
        assertThat(status.get("Last_SQL_Error")).isEmpty();
        ServeFixture.stopReplica(replica);
        return PitrFixture.checksums(replica);
      }
    }
  }

  static BinlogServer server(ArchiveReader reader, RestorePlan plan, Path spool) throws IOException {
    return builder(reader, plan, spool).build().start();
  }

  static BinlogServer.Builder builder(ArchiveReader reader, RestorePlan plan, Path spool) {
    return BinlogServer.builder().reader(reader).plan(plan).spool(spool)
        .listen(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .password(ServeFixture.PASSWORD.getBytes(StandardCharsets.UTF_8));
  }
}
