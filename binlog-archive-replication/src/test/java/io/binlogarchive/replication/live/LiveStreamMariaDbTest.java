package io.binlogarchive.replication.live;

import io.binlogarchive.Archiver;
import io.binlogarchive.FileResult;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.RunSummary;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.FileSystemSink;
import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.testing.CrashTest;
import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.testing.SlowTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@SlowTest
@MariaDbTest
@DisplayName("The live stream rebuilds a real MariaDB's binlogs byte for byte")
class LiveStreamMariaDbTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("across size rotations and FLUSH BINARY LOGS, closed files are identical and the open one differs only in the in-use flag")
  void rotations() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      f.server.load("w", 4000, 1);
      f.startStream(f.source().build(), FsyncPolicy.perTransaction());
      f.server.load("w", 20000, 2);
      f.server.flushLogs();
      f.server.load("w", 500, 3);
      f.awaitCaughtUp();
      assertThat(f.server.binaryLogs().size()).isGreaterThan(3);
      f.assertSpoolMatchesServer();
      assertThat(f.recorder.closed).hasSize(f.server.binaryLogs().size() - 1);
      f.assertSpoolMatchesMariaDbBinlogRaw(tmp.resolve("reference"));
      archiveSpoolWithCore(f);
      assertThat(f.recorder.durable).isNotEmpty();
      assertThat(f.recorder.durable.get(f.recorder.durable.size() - 1).gtid()).matches("0-1-\\d+");
      long beats = f.stream.heartbeats();
      f.await(() -> f.stream.heartbeats() >= beats + 2, "two more heartbeats while idle");
      f.assertSpoolMatchesServer();
      assertThat(f.stream.connections()).as("one connection throughout").isEqualTo(1);
      f.stopStream();
    }
  }

  @Test
  @DisplayName("connections cut by the server or on our side in the middle of a write load resume without gap or duplicate")
  void reconnects() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      f.startStream(f.source().build(), FsyncPolicy.interval(java.time.Duration.ofMillis(50)));
      java.util.concurrent.atomic.AtomicBoolean writing = new java.util.concurrent.atomic.AtomicBoolean(true);
      CompletableFuture<Void> load = CompletableFuture.runAsync(() -> {
        try {
          for (long seed = 100; writing.get(); seed++) {
            f.server.load("w", 500, seed);
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      for (int cut = 1; cut <= 4; cut++) {
        long connections = cut;
        int seen = f.recorder.durable.size();
        f.await(() -> f.stream.connections() >= connections && f.recorder.durable.size() > seen + 5,
            "stream connected " + connections + " times and progressing");
        if (cut % 2 == 1) {
          assertThat(f.killReplicaConnections()).as("dump threads killed on the server").isEqualTo(1);
        } else {
          f.stream.dropConnection(); // the socket closed on our side
        }
      }
      writing.set(false);
      load.join();
      f.awaitCaughtUp();
      assertThat(f.stream.connections()).isGreaterThanOrEqualTo(5);
      f.assertSpoolMatchesServer();
      f.stopStream();
    }
  }

  @Test
  @DisplayName("a connection that stalls silently (bytes stop, socket open) is given up after missed heartbeats and resumed without gap or duplicate")
  void stall() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp); StallingProxy proxy = new StallingProxy(f.server.port())) {
      SourceConfig viaProxy = SourceConfig.builder("127.0.0.1", proxy.port(), LiveFixture.USER)
          .password(LiveFixture.PASSWORD.toCharArray()).tls(TlsMode.DISABLED).replicaServerId(77)
          .heartbeat(java.time.Duration.ofMillis(250)).build();
      f.startStream(viaProxy, FsyncPolicy.perTransaction());
      f.server.load("w", 500, 21);
      f.awaitCaughtUp();
      proxy.stallAll();
      f.server.load("w", 2000, 22); // written while the stream hears nothing
      f.await(() -> f.stream.connections() >= 2, "the stream gives up the stalled connection and reconnects");
      f.server.load("w", 200, 23);
      f.awaitCaughtUp();
      f.assertSpoolMatchesServer();
      f.stopStream();
    }
  }

  @Test
  @DisplayName("against a server without TLS, preferred connects in plain and required fails, saying why")
  void serverWithoutTls() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      try (ReplicationClient c = ReplicationClient.connect(f.source().tls(TlsMode.PREFERRED).build())) {
        assertThat(c.isTls()).isFalse();
      }
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> ReplicationClient.connect(f.source().tls(TlsMode.REQUIRED).build()).close())
          .isInstanceOf(java.io.IOException.class).hasMessageContaining("does not offer TLS");
    }
  }

  @Test
  @DisplayName("a restarted stream truncates a torn transaction at the end of its spool and resumes exactly there")
  void restartAfterTornWrite() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      f.startStream(f.source().build(), FsyncPolicy.perTransaction());
      f.server.load("w", 500, 5);
      f.awaitCaughtUp();
      f.stopStream();
      f.server.load("w", 300, 6);
      String[] master = f.masterStatus();
      Path ours = f.spool.resolve(master[0]);
      byte[] theirs = Files.readAllBytes(f.server.dataDir().resolve(master[0]));
      long have = Files.size(ours);
      assertThat(theirs.length).isGreaterThan((int) have + 1000);
      long torn = have + (theirs.length - have) / 2 + 7; // inside a transaction, probably inside an event
      try (FileChannel ch = FileChannel.open(ours, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
        ch.write(ByteBuffer.wrap(theirs, (int) have, (int) (torn - have)));
      }
      f.startStream(f.source().build(), FsyncPolicy.perTransaction());
      f.awaitCaughtUp();
      f.assertSpoolMatchesServer();
      f.stopStream();
    }
  }

  @Test
  @DisplayName("a transaction of one 20 MiB row (events over 16 MiB, split into several packets) arrives whole")
  void bigTransaction() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp, "--max-allowed-packet=64M")) {
      f.startStream(f.source().build(), FsyncPolicy.perTransaction());
      f.server.exec("CREATE DATABASE big", "CREATE TABLE big.t (id INT PRIMARY KEY, b LONGBLOB) ENGINE=InnoDB",
          "INSERT INTO big.t VALUES (1, REPEAT('x', 20 * 1024 * 1024))", "INSERT INTO big.t VALUES (2, 'small')");
      f.awaitCaughtUp();
      f.assertSpoolMatchesServer();
      long total = 0;
      for (String name : f.spoolIndex()) {
        total += Files.size(f.spool.resolve(name));
      }
      assertThat(total).isGreaterThan(20L << 20);
      assertThat(f.stream.connections()).as("one connection throughout").isEqualTo(1);
      f.stopStream();
    }
  }

  @CrashTest
  @Test
  @DisplayName("a clean restart and a SIGKILL of mariadbd: the stream follows into the new files, all identical to the server's")
  void serverRestartAndKill() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      f.startStream(f.source().build(), FsyncPolicy.perTransaction());
      f.server.load("w", 3000, 7);
      f.awaitCaughtUp();
      f.server.close(); // SIGTERM: a STOP event ends the file, no ROTATE
      f.server.restart();
      f.server.load("w", 3000, 8);
      f.awaitCaughtUp();
      CompletableFuture<Void> load = CompletableFuture.runAsync(() -> {
        try {
          f.server.load("w", 50000, 9);
        } catch (Exception e) {
          // the server dies under the load
        }
      });
      int seen = f.recorder.durable.size();
      f.await(() -> f.recorder.durable.size() > seen + 50, "stream receives the load");
      f.server.kill();
      load.join();
      f.server.restart();
      f.server.load("w", 500, 10);
      f.awaitCaughtUp();
      f.assertSpoolMatchesServerAfterCrash();
      f.stopStream();
    }
  }

  @Test
  @DisplayName("binlogs purged on the server while the stream was down are reported as a gap, and the stream goes on from the oldest left")
  void gap() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      f.startStream(f.source().build(), FsyncPolicy.perTransaction());
      f.server.load("w", 300, 11);
      f.awaitCaughtUp();
      String lastSpooled = f.masterStatus()[0];
      f.stopStream();
      f.server.load("w", 300, 12);
      f.server.flushLogs();
      f.server.load("w", 300, 13);
      f.server.flushLogs();
      f.server.exec("PURGE BINARY LOGS TO '" + f.masterStatus()[0] + "'");
      // MariaDB keeps a file its crash recovery may still need, so the oldest left is asked, not assumed.
      String keep = f.server.binaryLogs().get(0);
      assertThat(keep).isNotEqualTo(lastSpooled);
      f.server.load("w", 300, 14);
      f.startStream(f.source().build(), FsyncPolicy.perTransaction());
      f.awaitCaughtUp();
      assertThat(f.recorder.gaps).hasSize(1);
      BinlogGapException gap = f.recorder.gaps.get(0);
      assertThat(gap.lastFile()).isEqualTo(lastSpooled);
      assertThat(gap.resumeFile()).isEqualTo(keep);
      assertThat(gap.getMessage()).contains(lastSpooled, keep);
      byte[] theirs = Files.readAllBytes(f.server.dataDir().resolve(keep));
      assertThat(LiveFixture.maskInUse(Files.readAllBytes(f.spool.resolve(keep))))
          .isEqualTo(LiveFixture.maskInUse(theirs));
      f.stopStream();
    }
  }

  @Test
  @DisplayName("as a semi-sync replica its acknowledgements are accepted: Rpl_semi_sync_master_yes_tx rises, no_tx stays 0")
  void semiSync() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      // Enabled after the fixture's own setup statements, which no replica would acknowledge.
      f.server.exec("SET GLOBAL rpl_semi_sync_master_timeout = 60000", "SET GLOBAL rpl_semi_sync_master_enabled = 1");
      f.startStream(f.source().semiSync(true).build(), FsyncPolicy.interval(java.time.Duration.ofSeconds(30)));
      f.await(() -> status(f, "Rpl_semi_sync_master_clients") == 1, "the stream registers as a semi-sync replica");
      long yes = status(f, "Rpl_semi_sync_master_yes_tx");
      long no = status(f, "Rpl_semi_sync_master_no_tx");
      f.server.exec("CREATE DATABASE s", "CREATE TABLE s.t (id INT PRIMARY KEY)");
      for (int i = 0; i < 20; i++) {
        f.server.exec("INSERT INTO s.t VALUES (" + i + ")");
      }
      assertThat(status(f, "Rpl_semi_sync_master_yes_tx")).isGreaterThanOrEqualTo(yes + 22);
      assertThat(status(f, "Rpl_semi_sync_master_no_tx")).isEqualTo(no);
      f.awaitCaughtUp();
      long beats = f.stream.heartbeats();
      f.await(() -> f.stream.heartbeats() >= beats + 2, "heartbeats, with their semi-sync header, while idle");
      f.assertSpoolMatchesServer();
      assertThat(f.stream.connections()).as("one connection throughout").isEqualTo(1);
      f.stopStream();
    }
  }

  @Test
  @DisplayName("with manual acknowledgements, commits are released by acknowledge() called from another thread")
  void semiSyncManual() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      f.server.exec("SET GLOBAL rpl_semi_sync_master_timeout = 60000", "SET GLOBAL rpl_semi_sync_master_enabled = 1");
      assertManualAcksReleaseCommits(f, false);
    }
  }

  @Test
  @DisplayName("with semi-sync enabled by the server's startup option, manual acknowledgements release commits too")
  void semiSyncManualStartupOption() throws Exception {
    // With wait-no-slave on (the default), the fixture's own setup statements, committed before any
    // replica connects, would each wait for the whole timeout: the server's behaviour, not the stream's.
    // The server is restarted once the stream runs, so semi-sync is on from its start on the stream's
    // second connection.
    try (LiveFixture f = LiveFixture.start(tmp, "--rpl-semi-sync-master-enabled=ON",
        "--rpl-semi-sync-master-timeout=60000", "--rpl-semi-sync-master-wait-no-slave=OFF")) {
      assertManualAcksReleaseCommits(f, true);
    }
  }

  private static void assertManualAcksReleaseCommits(LiveFixture f, boolean restart) throws Exception {
    java.util.concurrent.ExecutorService uploader = java.util.concurrent.Executors.newSingleThreadExecutor();
    java.util.concurrent.atomic.AtomicInteger waits = new java.util.concurrent.atomic.AtomicInteger();
    try {
      f.recorder.onSourceWaiting = p -> {
        waits.incrementAndGet();
        uploader.execute(() -> {
          try {
            f.stream.acknowledge(p);
          } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
      };
      f.startStream(f.source().semiSync(true).build(), FsyncPolicy.perTransaction(), true);
      f.await(() -> status(f, "Rpl_semi_sync_master_clients") == 1, "the stream registers as a semi-sync replica");
      f.awaitCaughtUp();
      if (restart) {
        f.server.close(); // SIGTERM
        f.server.restart();
        f.await(() -> status(f, "Rpl_semi_sync_master_clients") == 1, "the stream registers again after the restart");
        f.awaitCaughtUp();
      }
      long yes = status(f, "Rpl_semi_sync_master_yes_tx");
      long no = status(f, "Rpl_semi_sync_master_no_tx");
      f.server.exec("CREATE DATABASE s", "CREATE TABLE s.t (id INT PRIMARY KEY)");
      for (int i = 0; i < 10; i++) {
        f.server.exec("INSERT INTO s.t VALUES (" + i + ")");
      }
      assertThat(status(f, "Rpl_semi_sync_master_yes_tx")).isGreaterThanOrEqualTo(yes + 12);
      assertThat(status(f, "Rpl_semi_sync_master_no_tx")).isEqualTo(no);
      assertThat(waits.get()).isGreaterThanOrEqualTo(12);
      f.stopStream();
    } finally {
      uploader.shutdownNow();
    }
  }

  /** Core's file-based archiver, pointed at the spool, archives exactly the closed files, with the server's hashes. */
  private void archiveSpoolWithCore(LiveFixture f) throws Exception {
    io.binlogarchive.store.FileSystemSink sink = io.binlogarchive.store.FileSystemSink.of(tmp.resolve("archive"));
    List<String> logs = f.server.binaryLogs();
    List<String> closed = logs.subList(0, logs.size() - 1);
    try (io.binlogarchive.Archiver archiver = io.binlogarchive.Archiver.builder()
        .source(io.binlogarchive.binlog.BinlogSource.directory(f.spool)).sink(sink).serverId("live")
        .cursorFile(tmp.resolve("cursor.json")).retryPolicy(io.binlogarchive.RetryPolicy.none()).build()) {
      io.binlogarchive.RunSummary run = archiver.runOnce();
      assertThat(run.failure()).isNull();
      assertThat(run.results()).extracting(r -> r.file().name()).containsExactlyElementsOf(closed);
      for (io.binlogarchive.FileResult r : run.results()) {
        assertThat(r.status()).isEqualTo(io.binlogarchive.FileResult.Status.ARCHIVED);
        byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
            .digest(Files.readAllBytes(f.server.dataDir().resolve(r.file().name())));
        assertThat(r.sidecar().sha256()).as("sidecar hash of %s is the server file's", r.file().name())
            .isEqualTo(java.util.HexFormat.of().formatHex(digest));
      }
    }
  }

  static long status(LiveFixture f, String name) {
    try (Connection c = f.server.connection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SHOW GLOBAL STATUS LIKE '" + name + "'")) {
      return rs.next() ? rs.getLong(2) : -1;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
