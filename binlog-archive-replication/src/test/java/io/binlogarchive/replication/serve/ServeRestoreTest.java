package io.binlogarchive.replication.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.testing.CrashTest;
import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.testing.SlowTest;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.Archiver;
import io.binlogarchive.restore.BaseBackup;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.testing.MariaDbServer;
import io.binlogarchive.restore.PitrFixture;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.RunSummary;
import io.binlogarchive.store.Sink;
import io.binlogarchive.crypto.StaticKeyProvider;
import io.binlogarchive.codec.Transform;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Point-in-time recovery through {@code serve}: a real MariaDB 10.11 replica, restored from a
 * {@code mariadb-dump} base backup, applies the archive it is served natively and must hold exactly
 * the checksums the source had at the target (a time, a GTID, a position), although a destructive
 * workload followed.
 */
@SlowTest
@MariaDbTest
@DisplayName("Serving an archive to a restored MariaDB replica")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeRestoreTest {
  static {
    System.setProperty("org.slf4j.simpleLogger.log.io.binlogarchive.replication.serve", "debug");
  }

  @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.ON_SUCCESS) static Path tmp;
  MariaDbServer source;
  FileSystemSink plain;
  FileSystemSink encrypted;
  KeyProvider keys;
  BaseBackup b1;
  Path dump1;
  Instant t;
  String gtidAtT;
  String fileAtT;
  long positionAtT;
  Map<String, Long> checksumsAtT;
  Map<String, Long> checksumsAtEnd;

  @BeforeAll
  void runSourceAndArchive() throws Exception {
    PitrFixture.requireTools();
    source = MariaDbServer.start(tmp.resolve("source"));
    plain = FileSystemSink.of(tmp.resolve("archive-plain"));
    encrypted = FileSystemSink.of(tmp.resolve("archive-enc"));
    byte[] key = new byte[32];
    new java.security.SecureRandom().nextBytes(key);
    keys = StaticKeyProvider.builder().key("k1", key).primary("k1").build();
    source.exec("CREATE DATABASE shop",
        "CREATE TABLE shop.u (id INT PRIMARY KEY, name VARCHAR(50), qty INT) ENGINE=InnoDB");
    for (int i = 0; i < 200; i++) {
      source.exec("INSERT INTO shop.u VALUES (" + i + ", 'item-" + i + "', " + (i * 7 % 13) + ")");
    }
    source.load("shop", 1500, 1);
    rotateAndArchive();
    source.load("shop", 400, 2);
    dump1 = tmp.resolve("b1.sql");
    b1 = PitrFixture.dump(source, "b1", dump1);
    source.load("shop", 2500, 3);
    source.exec("UPDATE shop.u SET qty = qty + 1 WHERE id % 3 = 0");
    rotateAndArchive();
    source.load("shop", 2500, 4);
    source.load("shop", 600, 7);
    source.exec("UPDATE shop.u SET name = CONCAT(name, '-x') WHERE id < 50", "DELETE FROM shop.u WHERE id >= 190");
    long second = PitrFixture.serverSecond(source);
    t = Instant.ofEpochSecond(second);
    checksumsAtT = PitrFixture.checksums(source);
    gtidAtT = PitrFixture.gtidBinlogPos(source);
    try (var c = source.connection(); var st = c.createStatement(); var rs = st.executeQuery("SHOW MASTER STATUS")) {
      rs.next();
      fileAtT = rs.getString(1);
      positionAtT = rs.getLong(2);
    }
    PitrFixture.awaitServerSecondAfter(source, second);
    source.load("shop", 800, 8);
    source.exec("UPDATE shop.u SET qty = 0", "DELETE FROM shop.t WHERE id % 2 = 0", "DROP TABLE shop.u");
    checksumsAtEnd = PitrFixture.checksums(source);
    rotateAndArchive();
    for (ArchiveReader r : List.of(reader(plain, false), reader(encrypted, true))) {
      r.maintenance().registerBaseBackup(b1);
    }
  }

  @AfterAll
  void stopSource() throws Exception {
    if (source != null) {
      source.close();
    }
  }

  void rotateAndArchive() throws Exception {
    source.flushLogs();
    archive(plain, null, tmp.resolve("plain.cursor"));
    archive(encrypted, Transform.aesGcm(keys), tmp.resolve("enc.cursor"));
  }

  void archive(Sink sink, Transform encryption, Path cursor) throws Exception {
    try (Archiver a = Archiver.builder().source(BinlogSource.indexFile(source.indexFile())).sink(sink).prefix("pitr")
        .serverId("src").cursorFile(cursor).compression(Transform.zstd(3)).encryption(encryption)
        .retryPolicy(RetryPolicy.none()).build()) {
      RunSummary s = a.runOnce();
      assertThat(s.failure()).isNull();
    }
  }

  ArchiveReader reader(Sink sink, boolean withKeys) {
    ArchiveReader.Builder b = ArchiveReader.builder().sink(sink).prefix("pitr").serverId("src")
        .retryPolicy(RetryPolicy.none()).parallelism(2);
    if (withKeys) {
      b.keyProvider(keys);
    }
    return b.build();
  }

  /** A fresh server loads the dump, replicates from serve until the target is applied; its checksums. */
  Map<String, Long> restore(ArchiveReader reader, RestorePlan plan, String name) throws Exception {
    return restore(reader, plan, name, false);
  }

  Map<String, Long> restore(ArchiveReader reader, RestorePlan plan, String name, boolean useGtid) throws Exception {
    Map<String, Long> checksums = new java.util.TreeMap<>();
    serve(reader, plan, name, useGtid, (replica, server) -> {
      ServePosition at = server.awaitTarget(Duration.ofMinutes(5));
      assertThat(ServeFixture.awaitApplied(replica, at)).as("MASTER_POS_WAIT for %s; %s", at,
          ServeFixture.slaveStatus(replica)).isNotNull().isNotNegative();
      Map<String, String> status = ServeFixture.slaveStatus(replica);
      assertThat(status.get("Last_IO_Error")).isEmpty();
      assertThat(status.get("Last_SQL_Error")).isEmpty();
      ServeFixture.stopReplica(replica);
      checksums.putAll(PitrFixture.checksums(replica));
    });
    return checksums;
  }

  /** What a test does with a replica (loaded with dump 1, replicating) and the server feeding it. */
  interface ServedReplica {
    void run(MariaDbServer replica, BinlogServer server) throws Exception;
  }

  void serve(ArchiveReader reader, RestorePlan plan, String name, boolean useGtid, ServedReplica body) throws Exception {
    Path work = Files.createDirectories(tmp.resolve(name));
    try (MariaDbServer replica = MariaDbServer.start(work.resolve("server"), "--server-id=2", "--skip-log-bin")) {
      PitrFixture.load(replica, dump1);
      try (BinlogServer server = server(reader, plan, work.resolve("spool"), 0)) {
        ServeFixture.startReplica(replica, server, useGtid);
        body.run(replica, server);
      }
    }
  }

  @Test
  @DisplayName("to second T from the zstd archive: the replica holds the checksums at T")
  void toTime() throws Exception {
    assertThat(checksumsAtT).isNotEqualTo(checksumsAtEnd).containsKeys("t", "u");
    ArchiveReader reader = reader(plain, false);
    RestorePlan plan = reader.plan("b1", RestoreTarget.time(t));
    assertThat(plan.files().size()).isGreaterThanOrEqualTo(2);
    assertThat(restore(reader, plan, "time")).isEqualTo(checksumsAtT);
  }

  @Test
  @DisplayName("to the GTID state at T from the zstd + AES archive, the replica connecting by GTID: it holds the checksums at T")
  void toGtid() throws Exception {
    ArchiveReader reader = reader(encrypted, true);
    RestorePlan plan = reader.plan("b1", RestoreTarget.gtid(gtidAtT));
    assertThat(plan.files().get(0).artifact().cipher()).isEqualTo("aes-256-gcm");
    assertThat(restore(reader, plan, "gtid", true)).isEqualTo(checksumsAtT);
  }

  @Test
  @DisplayName("to the position SHOW MASTER STATUS gave at T: the replica holds the checksums at T")
  void toPosition() throws Exception {
    ArchiveReader reader = reader(plain, false);
    RestorePlan plan = reader.plan("b1", RestoreTarget.position(fileAtT, positionAtT));
    assertThat(restore(reader, plan, "position")).isEqualTo(checksumsAtT);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"tampered", "missing"})
  @DisplayName("a tampered or missing artifact stops the serve with error 1236 naming it before any event of its file reaches the replica")
  void damaged(String damage) throws Exception {
    Path copy = tmp.resolve("archive-" + damage);
    PitrFixture.copyTree(tmp.resolve("archive-plain"), copy);
    ArchiveReader reader = reader(FileSystemSink.of(copy), false);
    RestorePlan plan = reader.plan("b1", RestoreTarget.latest());
    assertThat(plan.files()).hasSizeGreaterThanOrEqualTo(2);
    io.binlogarchive.Sidecar damaged = plan.files().get(1);
    if (damage.equals("missing")) {
      Files.delete(copy.resolve(damaged.artifact().key())); // after planning: the sidecar promised it
    } else {
      PitrFixture.tamper(copy.resolve(damaged.artifact().key()));
    }
    Path spool = tmp.resolve(damage).resolve("spool");
    serve(reader, plan, damage, false, (replica, server) -> {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> server.awaitTarget(Duration.ofMinutes(5)))
          .isInstanceOf(java.io.IOException.class).hasMessageContaining(damaged.artifact().key());
      Map<String, String> status = ServeFixture.awaitIoThread(replica, "No");
      assertThat(status.get("Slave_IO_Running")).isEqualTo("No");
      assertThat(status.get("Last_IO_Errno")).isEqualTo("1236");
      assertThat(status.get("Last_IO_Error")).contains("binlog-archive serve stopped before " + damaged.file())
          .contains(damaged.artifact().key());
      assertThat(status.get("Master_Log_File")).isEqualTo(damaged.file());
      assertThat(status.get("Read_Master_Log_Pos")).as("nothing of %s was read", damaged.file()).isEqualTo("4");
      assertThat(spool.resolve(damaged.file())).doesNotExist();
    });
  }

  @Test
  @DisplayName("a replica that stops mid-plan and reconnects (to a new serve on the same port, further target) resumes where it was")
  void resumesAfterReconnect() throws Exception {
    ArchiveReader reader = reader(plain, false);
    RestorePlan full = reader.plan("b1", RestoreTarget.time(t));
    io.binlogarchive.Sidecar first = full.files().get(0);
    RestorePlan partial = reader.plan("b1",
        RestoreTarget.position(first.file(), (full.startPosition() + first.size()) / 2));
    Path work = Files.createDirectories(tmp.resolve("resume"));
    try (MariaDbServer replica = MariaDbServer.start(work.resolve("server"), "--server-id=2", "--skip-log-bin")) {
      PitrFixture.load(replica, dump1);
      int port;
      ServePosition mid;
      try (BinlogServer first1 = server(reader, partial, work.resolve("spool1"), 0)) {
        port = first1.address().getPort();
        ServeFixture.startReplica(replica, first1, false);
        mid = first1.awaitTarget(Duration.ofMinutes(5));
        assertThat(ServeFixture.awaitApplied(replica, mid)).isNotNull().isNotNegative();
        replica.exec("STOP SLAVE");
      }
      assertThat(mid.file()).isEqualTo(first.file());
      assertThat(mid.position()).isGreaterThan(full.startPosition()).isLessThan(first.size());
      try (BinlogServer second = server(reader, full, work.resolve("spool2"), port)) {
        replica.exec("START SLAVE");
        ServePosition at = second.awaitTarget(Duration.ofMinutes(5));
        assertThat(ServeFixture.awaitApplied(replica, at)).isNotNull().isNotNegative();
        Map<String, String> status = ServeFixture.slaveStatus(replica);
        assertThat(status.get("Last_IO_Error")).isEmpty();
        assertThat(status.get("Last_SQL_Error")).isEmpty();
        ServeFixture.stopReplica(replica);
      }
      assertThat(PitrFixture.checksums(replica)).isEqualTo(checksumsAtT);
    }
  }

  @Test
  @DisplayName("a connection cut inside a transaction (as by kill -9 of serve): the replica applies only whole transactions, then reconnects and reaches T")
  void cutInsideATransaction() throws Exception {
    throughCuttingProxy("cut", 150_000, false, (replica, proxy, plan) -> {
      Map<String, String> status = ServeFixture.slaveStatus(replica);
      String file = status.get("Master_Log_File");
      long read = Long.parseLong(status.get("Read_Master_Log_Pos"));
      // the last transaction boundary the replica received whole, from the source's own file
      long boundary = StopFinder.atOrBefore(source.dataDir().resolve(file), 4, read);
      assertThat(boundary).isGreaterThan(plan.startPosition()).as("the cut fell inside a transaction").isLessThan(read);
      assertThat(ServeFixture.awaitApplied(replica, new ServePosition(file, boundary, null))).isNotNull().isNotNegative();
      status = ServeFixture.slaveStatus(replica);
      assertThat(status.get("Last_SQL_Error")).isEmpty();
      assertThat(Long.parseLong(status.get("Exec_Master_Log_Pos"))).as("only whole transactions applied")
          .isEqualTo(boundary);
      proxy.heal();
    });
  }

  @Test
  @CrashTest
  @DisplayName("a replica connected by GTID, cut off mid-stream and killed with SIGKILL, restarts, reconnects and reaches T exactly")
  void replicaCrashMidStream() throws Exception {
    throughCuttingProxy("crash", 200_000, true, (replica, proxy, plan) -> {
      assertThat(replica.kill()).isEqualTo(137);
      proxy.heal();
      replica.restart(); // the slave threads start again by themselves and reconnect by GTID
    });
  }

  /** What a test does once the proxy has cut the replica off its source; it heals the proxy. */
  interface AfterCut {
    void run(MariaDbServer replica, CuttingProxy proxy, RestorePlan plan) throws Exception;
  }

  /**
   * A replica (dump 1 loaded) replicating to T from serve through a proxy that cuts the first
   * connection after {@code cut} bytes; once the replica has lost its source, {@code afterCut}; then
   * the replica must reach T with the checksums at T.
   */
  void throughCuttingProxy(String name, long cut, boolean useGtid, AfterCut afterCut) throws Exception {
    ArchiveReader reader = reader(plain, false);
    RestorePlan plan = reader.plan("b1", RestoreTarget.time(t));
    Path work = Files.createDirectories(tmp.resolve(name));
    try (MariaDbServer replica = MariaDbServer.start(work.resolve("server"), "--server-id=2", "--skip-log-bin");
        BinlogServer server = server(reader, plan, work.resolve("spool"), 0);
        CuttingProxy proxy = new CuttingProxy(server.address(), cut)) {
      PitrFixture.load(replica, dump1);
      List<String> statements = new java.util.ArrayList<>(server.replicaStatements(ServeFixture.PASSWORD, useGtid));
      int change = useGtid ? 1 : 0;
      statements.set(change, statements.get(change).replace("MASTER_PORT=" + server.address().getPort(),
          "MASTER_PORT=" + proxy.port()) + ", MASTER_CONNECT_RETRY=1");
      replica.exec(statements.toArray(String[]::new));
      proxy.awaitCut();
      Map<String, String> status = ServeFixture.awaitIoThread(replica, "Connecting");
      assertThat(status.get("Slave_IO_Running")).as("the replica lost its source").isEqualTo("Connecting");
      afterCut.run(replica, proxy, plan);
      ServePosition at = server.awaitTarget(Duration.ofMinutes(5));
      assertThat(ServeFixture.awaitApplied(replica, at)).isNotNull().isNotNegative();
      assertThat(ServeFixture.slaveStatus(replica).get("Last_SQL_Error")).isEmpty();
      ServeFixture.stopReplica(replica);
      assertThat(PitrFixture.checksums(replica)).isEqualTo(checksumsAtT);
    }
  }

  @Test
  @DisplayName("relay-log mode: the fetched files placed as the replica's relay logs, its SQL thread stops UNTIL second T with the checksums at T")
  void relayLogsToTime() throws Exception {
    ArchiveReader reader = reader(encrypted, true);
    RestorePlan plan = reader.plan("b1", RestoreTarget.time(t));
    Path work = Files.createDirectories(tmp.resolve("relay"));
    try (MariaDbServer replica = MariaDbServer.start(work.resolve("server"), "--server-id=2", "--skip-log-bin",
        "--relay-log=relay-bin")) {
      PitrFixture.load(replica, dump1);
      RelayLogs relay = RelayLogs.place(reader.fetch(plan, replica.dataDir()), "relay-bin");
      assertThat(relay.stopPosition()).isGreaterThan(4);
      assertThat(relay.statements().get(1)).contains("UNTIL RELAY_LOG_FILE='" + relay.stopRelayLog() + "'");
      replica.exec(relay.statements().toArray(String[]::new));
      Map<String, String> status = ServeFixture.awaitSqlThread(replica, "No");
      assertThat(status.get("Slave_SQL_Running")).isEqualTo("No");
      assertThat(status.get("Last_SQL_Error")).isEmpty();
      ServeFixture.stopReplica(replica);
      assertThat(PitrFixture.checksums(replica)).isEqualTo(checksumsAtT);
    }
  }

  BinlogServer server(ArchiveReader reader, RestorePlan plan, Path spool, int port) throws java.io.IOException {
    return BinlogServer.builder().reader(reader).plan(plan).spool(spool)
        .listen(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port))
        .password(ServeFixture.PASSWORD.getBytes(StandardCharsets.UTF_8)).build().start();
  }
}
