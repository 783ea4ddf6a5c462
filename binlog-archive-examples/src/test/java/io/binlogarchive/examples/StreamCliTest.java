package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.restore.ArchiveCatalog;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.restore.BaseBackup;
import io.binlogarchive.restore.FetchResult;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.CrashTest;
import io.binlogarchive.testing.MariaDbServer;
import io.binlogarchive.restore.PitrFixture;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.Sidecar;
import io.binlogarchive.testing.MariaDbTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code stream} end to end against a real MariaDB server: a committed marker reaches a proven
 * segment, the streamer and the server are killed, and a fresh server restored from the archive
 * alone (base dump, whole files, segments) holds the marker.
 */
@MariaDbTest
@CrashTest
@DisplayName("The runner's stream command")
class StreamCliTest {
  static final String USER = "archiver";
  static final String PASSWORD = "Str3am-pass";
  static final Duration DEADLINE = Duration.ofSeconds(180);
  @TempDir Path tmp;
  Path archive;
  Path dump;
  Path log;

  @BeforeEach
  void paths() {
    archive = tmp.resolve("archive");
    dump = tmp.resolve("base.sql");
    log = tmp.resolve("stream.err");
  }

  @Test
  @DisplayName("a committed marker in a proven segment survives SIGKILL of the streamer and the server:"
      + " a restore from the archive alone has it")
  void markerSurvivesKills() throws Exception {
    PitrFixture.requireTools();
    BaseBackup backup;
    String file;
    try (MariaDbServer server = MariaDbServer.start(tmp.resolve("db"))) {
      createUser(server);
      server.load("shop", 400, 1);
      backup = PitrFixture.dump(server, "base", dump);
      server.load("shop", 300, 2);
      server.flushLogs();
      server.load("shop", 100, 3);
      Path password = Files.writeString(tmp.resolve("password"), PASSWORD + "\n", StandardCharsets.UTF_8);
      Process streamer = ChildJvm.builder(Map.of(), "stream", "--source", "mysql://" + USER + "@127.0.0.1:" + server.port(),
              "--to", "file://" + archive, "--password-file", password.toString(), "--server-id", "db",
              "--spool", tmp.resolve("spool").toString(), "--tls", "disabled", "--replica-server-id", "4242",
              "--segment-interval-ms", "200")
          .redirectError(log.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      try {
        server.exec("CREATE TABLE shop.marker (v VARCHAR(40))", "INSERT INTO shop.marker VALUES ('live-marker')");
        String[] master = masterStatus(server);
        file = master[0];
        long end = Long.parseLong(master[1]);
        awaitStored(streamer, archive, file, end, log);
        assertThat(Files.readString(log)).doesNotContain(PASSWORD);
      } finally {
        streamer.destroyForcibly(); // SIGKILL
        streamer.waitFor(60, TimeUnit.SECONDS);
        server.kill();
      }
    }
    ArchiveReader reader = ArchiveReader.builder().sink(FileSystemSink.of(archive)).serverId("db").build();
    reader.maintenance().registerBaseBackup(backup);
    RestorePlan plan = reader.plan("base", RestoreTarget.latest());
    assertThat(plan.lastFile()).isEqualTo(file);
    assertThat(plan.segments()).as("the open file comes from segments").isNotEmpty();
    FetchResult fetched = reader.fetch(plan, tmp.resolve("fetch"));
    String marker = PitrFixture.restoreFresh(fetched, dump, tmp,
        fresh -> PitrFixture.firstValue(fresh, "SELECT v FROM shop.marker"));
    assertThat(marker).as("the marker row in the restored server").isEqualTo("live-marker");
  }

  @Test
  @DisplayName("SIGTERM stops the streamer gracefully, after storing what the spool holds")
  void sigtermStopsGracefully() throws Exception {
    try (MariaDbServer server = MariaDbServer.start(tmp.resolve("db"))) {
      createUser(server);
      server.load("shop", 200, 5);
      Process streamer = streamer(server, archive, log);
      try {
        String[] master = masterStatus(server);
        awaitStored(streamer, archive, master[0], Long.parseLong(master[1]), log);
        streamer.toHandle().destroy(); // SIGTERM
        assertThat(streamer.waitFor(120, TimeUnit.SECONDS)).as("stopped").isTrue();
      } finally {
        streamer.destroyForcibly();
      }
      String err = Files.readString(log);
      assertThat(err).contains("binlog-archive: stopping").contains("stopped; live position " + masterStatus(server)[0]);
      assertThat(err).doesNotContain(PASSWORD);
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      java.io.PrintStream ps = new java.io.PrintStream(out, true, StandardCharsets.UTF_8);
      assertThat(new Main(ps, ps).run(new String[] {"status", "--from", "file://" + archive, "--server-id", "db"}))
          .isZero();
      assertThat(out.toString(StandardCharsets.UTF_8)).as("status")
          .containsPattern("live position: " + masterStatus(server)[0].replace(".", "\\.") + " up to offset \\d+");
    }
  }

  @Test
  @DisplayName("with --semi-sync, a COMMIT returns only once its transaction is in a proven segment")
  void semiSyncAcknowledgesAfterTheStore() throws Exception {
    try (MariaDbServer server = MariaDbServer.start(tmp.resolve("db"))) {
      createUser(server);
      server.exec("CREATE DATABASE shop", "CREATE TABLE shop.marker (v VARCHAR(40))",
          "SET GLOBAL rpl_semi_sync_master_timeout = 60000", "SET GLOBAL rpl_semi_sync_master_enabled = 1");
      // a long interval: only the source's wait for an acknowledgement makes a segment now
      Process streamer = streamer(server, archive, log, "--semi-sync", "--segment-interval-ms", "600000");
      try {
        awaitSemiSyncReplica(server, streamer);
        String yes = status(server, "RPL_SEMI_SYNC_MASTER_YES_TX");
        for (int i = 0; i < 3; i++) {
          server.exec("INSERT INTO shop.marker VALUES ('acked-" + i + "')");
          String[] master = masterStatus(server);
          // no waiting here: the COMMIT returned, so the segment must already be proven
          Optional<Sidecar> seg = ArchiveCatalog.of(FileSystemSink.of(archive), "", "db").newestSegment("t0001");
          assertThat(seg).as("commit %d: %s", i, Files.readString(log)).hasValueSatisfying(g -> {
            assertThat(g.file()).isEqualTo(master[0]);
            assertThat(g.segment().end()).isGreaterThanOrEqualTo(Long.parseLong(master[1]));
          });
        }
        assertThat(status(server, "RPL_SEMI_SYNC_MASTER_NO_TX")).as("no commit fell back to asynchronous")
            .isEqualTo("0");
        assertThat(Long.parseLong(status(server, "RPL_SEMI_SYNC_MASTER_YES_TX"))).as("acknowledged commits")
            .isGreaterThanOrEqualTo(Long.parseLong(yes) + 3);
      } finally {
        streamer.destroyForcibly();
        streamer.waitFor(60, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  @DisplayName("with --semi-sync, no acknowledged COMMIT is missing after SIGKILL of the streamer and the server"
      + " in the middle of a write load: a restore from the archive alone has every one")
  void semiSyncDoubleKillLosesNoAcknowledgedCommit() throws Exception {
    PitrFixture.requireTools();
    BaseBackup backup;
    java.util.Queue<Integer> acknowledged = new java.util.concurrent.ConcurrentLinkedQueue<>();
    java.util.concurrent.atomic.AtomicInteger attempted = new java.util.concurrent.atomic.AtomicInteger();
    try (MariaDbServer server = MariaDbServer.start(tmp.resolve("db"))) {
      createUser(server);
      server.load("shop", 300, 1); // the source's GTIDs run ahead of the fresh server's own while it loads the dump
      server.exec("CREATE TABLE shop.acked (id INT PRIMARY KEY)");
      backup = PitrFixture.dump(server, "base", dump);
      server.exec("SET GLOBAL rpl_semi_sync_master_timeout = 600000", "SET GLOBAL rpl_semi_sync_master_enabled = 1");
      Process streamer = streamer(server, archive, log, "--semi-sync");
      Thread writer = null;
      try {
        long deadline = awaitSemiSyncReplica(server, streamer);
        writer = new Thread(() -> {
          try (Connection c = server.connection(); Statement st = c.createStatement()) {
            for (int id = 1; ; id++) {
              attempted.set(id);
              st.execute("INSERT INTO shop.acked VALUES (" + id + ")"); // autocommit: returns once acknowledged
              acknowledged.add(id);
            }
          } catch (java.sql.SQLException e) {
            // the server was killed under the load
          }
        }, "writer");
        writer.start();
        while (acknowledged.size() < 40) {
          assertThat(streamer.isAlive()).as("streamer running: %s", Files.readString(log)).isTrue();
          assertThat(System.nanoTime()).as("40 commits acknowledged: %s", Files.readString(log)).isLessThan(deadline);
          writer.join(50);
        }
        assertThat(status(server, "RPL_SEMI_SYNC_MASTER_NO_TX")).as("no commit fell back to asynchronous").isEqualTo("0");
      } finally {
        streamer.destroyForcibly(); // SIGKILL while the writer's next COMMIT waits for its acknowledgement
        streamer.waitFor(60, TimeUnit.SECONDS);
        server.kill();
        if (writer != null) {
          writer.join(TimeUnit.SECONDS.toMillis(60));
        }
      }
      assertThat(writer.isAlive()).as("the writer ended with the server").isFalse();
    }
    ArchiveReader reader = ArchiveReader.builder().sink(FileSystemSink.of(archive)).serverId("db").build();
    reader.maintenance().registerBaseBackup(backup);
    FetchResult fetched = reader.fetch(reader.plan("base", RestoreTarget.latest()), tmp.resolve("fetch"));
    List<Integer> restored = PitrFixture.restoreFresh(fetched, dump, tmp, fresh -> {
      List<Integer> ids = new java.util.ArrayList<>();
      try (Connection c = fresh.connection(); Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT id FROM shop.acked ORDER BY id")) {
        while (rs.next()) {
          ids.add(rs.getInt(1));
        }
      }
      return ids;
    });
    assertThat(acknowledged).as("acknowledged before the kills").hasSizeGreaterThanOrEqualTo(40);
    assertThat(restored).as("every acknowledged row is in the restore").containsAll(acknowledged);
    assertThat(restored).as("nothing the writer did not send").allMatch(id -> id <= attempted.get());
  }

  @Test
  @DisplayName("--tls required against a server without TLS: the streamer exits non-zero at once, saying why")
  void tlsRequiredWithoutServerTlsExits() throws Exception {
    try (MariaDbServer server = MariaDbServer.start(tmp.resolve("db"))) {
      createUser(server);
      List<String> args = new java.util.ArrayList<>(List.of("stream", "--source",
          "mysql://" + USER + "@127.0.0.1:" + server.port(), "--to", "file://" + archive, "--server-id", "db",
          "--spool", tmp.resolve("spool").toString(), "--tls", "required"));
      Process streamer = ChildJvm.builder(Map.of(StreamCommand.PASSWORD_ENV, PASSWORD), args.toArray(String[]::new))
          .redirectError(log.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      try {
        // a streamer that retried would never exit: the bound is generous, not a timing claim
        assertThat(streamer.waitFor(DEADLINE.toSeconds(), TimeUnit.SECONDS)).as("exited by itself: %s",
            Files.readString(log)).isTrue();
      } finally {
        streamer.destroyForcibly();
      }
      assertThat(streamer.exitValue()).isEqualTo(1);
      assertThat(Files.readString(log)).contains("the stream stopped:", "TLS mode required but server 127.0.0.1:"
          + server.port() + " does not offer TLS").doesNotContain(PASSWORD);
    }
  }

  @Test
  @DisplayName("--max-binlog-age with stream: the server's binlog is rotated once its oldest transaction is that old,"
      + " and the closed file is archived whole")
  void maxBinlogAgeRotates() throws Exception {
    try (MariaDbServer server = MariaDbServer.start(tmp.resolve("db"))) {
      createUser(server);
      server.load("shop", 100, 7);
      Process streamer = streamer(server, archive, log, "--max-binlog-age", "2", "--jdbc-url", server.jdbcUrl());
      try {
        String loaded = masterStatus(server)[0];
        // no writes after the load: only the rotation by age closes the file
        awaitArchive(streamer, archive, log, "whole " + loaded,
            (catalog, t) -> catalog.sidecars(t).stream().anyMatch(s -> s.file().equals(loaded)));
        String next = masterStatus(server)[0];
        assertThat(next).as("the server rotated").isNotEqualTo(loaded);
        server.exec("INSERT INTO shop.t (k, v) VALUES (1, 'aged')"); // into the new file, empty until now
        awaitArchive(streamer, archive, log, "whole " + next,
            (catalog, t) -> catalog.sidecars(t).stream().anyMatch(s -> s.file().equals(next)));
      } finally {
        streamer.destroyForcibly();
        streamer.waitFor(60, TimeUnit.SECONDS);
      }
      assertThat(Files.readString(log)).doesNotContain("cannot bound the archive lag");
    }
  }

  @Test
  @DisplayName("the lag behind the server is served as metrics: caught up, 0 bytes and 0 seconds")
  void lagMetrics() throws Exception {
    try (MariaDbServer server = MariaDbServer.start(tmp.resolve("db"))) {
      createUser(server);
      server.load("shop", 200, 9);
      Process streamer = streamer(server, archive, log, "--metrics-port", "0");
      try {
        String[] master = masterStatus(server);
        awaitStored(streamer, archive, master[0], Long.parseLong(master[1]), log);
        java.util.regex.Pattern at = java.util.regex.Pattern.compile("binlog-archive: metrics on (http://\\S+/metrics)");
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (true) {
          java.util.regex.Matcher m = at.matcher(Files.readString(log));
          if (m.find()) {
            String body = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(m.group(1))).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            // measured every 5 s: -1 until the first measurement after the catch-up
            if (body.contains("binlog_archive_live_lag_bytes{server=\"db\"} 0.0")) {
              assertThat(body).contains("binlog_archive_live_lag_seconds{server=\"db\"} 0.0");
              break;
            }
          }
          assertThat(streamer.isAlive()).as("streamer running: %s", Files.readString(log)).isTrue();
          assertThat(System.nanoTime()).as("a measurement finds no lag: %s", Files.readString(log)).isLessThan(deadline);
          streamer.waitFor(200, TimeUnit.MILLISECONDS);
        }
      } finally {
        streamer.destroyForcibly();
        streamer.waitFor(60, TimeUnit.SECONDS);
      }
    }
  }

  /** Waits (bounded, generous) until the streamer is the server's semi-sync replica; returns the deadline used. */
  long awaitSemiSyncReplica(MariaDbServer server, Process streamer) throws Exception {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (!"1".equals(status(server, "RPL_SEMI_SYNC_MASTER_CLIENTS"))) {
      assertThat(streamer.isAlive()).as("streamer running: %s", Files.readString(log)).isTrue();
      assertThat(System.nanoTime()).as("a semi-sync replica connects: %s", Files.readString(log)).isLessThan(deadline);
      streamer.waitFor(100, TimeUnit.MILLISECONDS);
    }
    return deadline;
  }

  static void createUser(MariaDbServer server) throws Exception {
    server.exec("CREATE USER '" + USER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
        "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '" + USER + "'@'%'");
  }

  /** Starts {@code stream} in a child JVM, the password in the environment. */
  Process streamer(MariaDbServer server, Path archive, Path log, String... more) throws Exception {
    List<String> args = new java.util.ArrayList<>(List.of("stream", "--source",
        "mysql://" + USER + "@127.0.0.1:" + server.port(), "--to", "file://" + archive, "--server-id", "db",
        "--spool", tmp.resolve("spool").toString(), "--tls", "disabled"));
    args.addAll(List.of(more));
    return ChildJvm.builder(Map.of(StreamCommand.PASSWORD_ENV, PASSWORD), args.toArray(String[]::new))
        .redirectError(log.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
  }

  static String status(MariaDbServer server, String name) throws Exception {
    return PitrFixture.firstValue(server,
        "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = '" + name + "'");
  }

  static String[] masterStatus(MariaDbServer server) throws Exception {
    try (Connection c = server.connection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SHOW MASTER STATUS")) {
      assertThat(rs.next()).isTrue();
      return new String[] {rs.getString(1), rs.getString(2)};
    }
  }

  /** Polls the store (bounded, generous) until {@code file} is stored up to {@code end}: in a segment or whole. */
  static void awaitStored(Process streamer, Path archive, String file, long end, Path log) throws Exception {
    awaitArchive(streamer, archive, log, "a segment of " + file + " reaching offset " + end, (catalog, t) -> {
      Optional<Sidecar> seg = catalog.newestSegment(t);
      return seg.isPresent() && seg.get().file().equals(file) && seg.get().segment().end() >= end
          || catalog.sidecars(t).stream().anyMatch(s -> s.file().equals(file) && s.size() >= end);
    });
  }

  /** A condition on the newest timeline of the archive. */
  @FunctionalInterface
  interface ArchiveCondition {
    boolean holds(ArchiveCatalog catalog, String timeline) throws Exception;
  }

  /** Polls the store (bounded, generous) until {@code condition} holds on its newest timeline. */
  static void awaitArchive(Process streamer, Path archive, Path log, String what, ArchiveCondition condition)
      throws Exception {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (true) {
      if (Files.isDirectory(archive)) {
        ArchiveCatalog catalog = ArchiveCatalog.of(FileSystemSink.of(archive), "", "db");
        List<String> timelines = catalog.timelines();
        if (!timelines.isEmpty() && condition.holds(catalog, timelines.get(timelines.size() - 1))) {
          return;
        }
      }
      if (!streamer.isAlive()) {
        throw new AssertionError("the streamer exited with " + streamer.exitValue() + ":\n" + Files.readString(log));
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no " + what + " within " + DEADLINE + ":\n" + Files.readString(log));
      }
      streamer.waitFor(100, TimeUnit.MILLISECONDS); // returns at once if it exits
    }
  }
}
