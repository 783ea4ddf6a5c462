package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.Archiver;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.SegmentArchiver;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.testing.SlowTest;
import io.binlogarchive.restore.BaseBackup;
import io.binlogarchive.testing.MariaDbServer;
import io.binlogarchive.restore.PitrFixture;
import io.binlogarchive.s3.S3ProxyServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code restore serve --apply-to}: the runner serves the archive to a restored MariaDB server as
 * its replication source, sets the replica up over JDBC, waits until the target GTID is applied,
 * and stops and resets replication there.
 */
@SlowTest
@MariaDbTest
@DisplayName("restore serve through the command-line runner")
class ServeCliTest {
  @RegisterExtension static final S3ProxyServer s3 = new S3ProxyServer();
  @TempDir Path tmp;

  @BeforeAll
  static void credentials() {
    System.setProperty("aws.accessKeyId", S3ProxyServer.ACCESS_KEY);
    System.setProperty("aws.secretAccessKey", S3ProxyServer.SECRET_KEY);
  }

  @AfterAll
  static void clear() {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
  }

  @Test
  @DisplayName("restore serve --until-gtid --apply-to (local zstd archive) brings a restored server to the checksums at that GTID and resets its replication")
  void serveToGtid() throws Exception {
    scenario("file://" + tmp.resolve("archive"), List.of(), List.of(), List.of());
  }

  @Test
  @DisplayName("restore fetch --as-relay-log places the files as the restored server's relay logs; its SQL thread stops at the GTID's transaction")
  void relayLogMode() throws Exception {
    String uri = "file://" + tmp.resolve("archive");
    Map<String, Object> made = source(uri, List.of(), List.of());
    try (MariaDbServer target = MariaDbServer.start(tmp.resolve("target"), "--server-id=7", "--skip-log-bin",
        "--relay-log=relay-bin")) {
      PitrFixture.load(target, tmp.resolve("base.sql"));
      MainTest.Result r = ok("restore", "fetch", "--from", uri, "--backup", "base", "--until-gtid",
          (String) made.get("gtid"), "--to-dir", target.dataDir().toString(), "--as-relay-log", "relay-bin");
      List<String> statements = r.out().lines().map(l -> l.replaceAll(";$", "")).toList();
      assertThat(statements).hasSize(2);
      assertThat(statements.get(1)).startsWith("START SLAVE SQL_THREAD UNTIL RELAY_LOG_FILE='relay-bin.");
      target.exec(statements.toArray(String[]::new));
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(5);
      String running = "Yes";
      String error = null;
      while (!"No".equals(running) && System.nanoTime() < deadline) {
        try (var c = target.connection(); var st = c.createStatement(); var rs = st.executeQuery("SHOW SLAVE STATUS")) {
          rs.next();
          running = rs.getString("Slave_SQL_Running");
          error = rs.getString("Last_SQL_Error");
        }
      }
      assertThat(running).isEqualTo("No");
      assertThat(error).isEmpty();
      target.exec("STOP SLAVE", "RESET SLAVE ALL");
      assertThat(PitrFixture.checksums(target)).isEqualTo(made.get("checksums"));
    }
  }

  @Test
  @DisplayName("the same from an encrypted (zstd + AES-256-GCM) archive on s3proxy")
  void serveFromS3Encrypted() throws Exception {
    Path key = tmp.resolve("archive.key");
    byte[] k = new byte[32];
    new java.security.SecureRandom().nextBytes(k);
    Files.write(key, k);
    List<String> endpoint = List.of("--endpoint", s3.endpoint().toString());
    scenario("s3://" + s3.newBucket() + "/pitr", endpoint, List.of("--encrypt-key-file", key.toString()),
        List.of("--key-file", key.toString()));
  }

  @Test
  @DisplayName("restore serve --tls-cert --tls-key --apply-to, the archive's tail stored as live-stream segments: the restored server replicates over TLS and holds the rows only the segments have")
  void segmentsOverTls() throws Exception {
    PitrFixture.requireTools();
    Path archive = tmp.resolve("archive");
    Path dump = tmp.resolve("base.sql");
    String open;
    Map<String, Long> expected;
    try (MariaDbServer source = MariaDbServer.start(tmp.resolve("source"))) {
      source.exec("CREATE DATABASE shop", "CREATE TABLE shop.marker (v VARCHAR(40)) ENGINE=InnoDB");
      source.load("shop", 300, 21);
      BaseBackup base = PitrFixture.dump(source, "base", dump);
      source.load("shop", 300, 22);
      source.flushLogs();
      open = source.binaryLogs().get(source.binaryLogs().size() - 1);
      try (Archiver archiver = Archiver.builder().source(BinlogSource.indexFile(source.indexFile()))
          .sink(FileSystemSink.of(archive)).serverId("default").cursorFile(tmp.resolve("cursor.json"))
          .compression(Transform.zstd(3)).retryPolicy(RetryPolicy.none()).build();
          SegmentArchiver live = SegmentArchiver.builder(archiver).directory(source.dataDir()).maxBytes(16 * 1024)
              .build()) {
        assertThat(archiver.runOnce().failure()).isNull(); // the closed files, whole
        source.load("shop", 400, 23);
        source.exec("INSERT INTO shop.marker VALUES ('only-in-segments')");
        live.durable(open, Files.size(source.dataDir().resolve(open)));
        assertThat(live.flush()).isPresent();
      }
      expected = PitrFixture.checksums(source);
      ok("backup", "register", "--from", "file://" + archive, "--name", "base", "--file", base.file(), "--position",
          Long.toString(base.position()), "--gtid", base.gtid());
    }
    Path cert = tmp.resolve("serve.pem");
    Path key = tmp.resolve("serve.key");
    Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
        "/CN=127.0.0.1", "-keyout", key.toString(), "-out", cert.toString()).redirectErrorStream(true)
        .redirectOutput(tmp.resolve("openssl.log").toFile()).start();
    assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) && p.exitValue() == 0)
        .as(Files.readString(tmp.resolve("openssl.log"))).isTrue();
    try (MariaDbServer target = MariaDbServer.start(tmp.resolve("target"), "--server-id=7", "--skip-log-bin")) {
      PitrFixture.load(target, dump);
      MainTest.Result r = ok("restore", "serve", "--from", "file://" + archive, "--backup", "base",
          "--listen", "127.0.0.1:0", "--spool", tmp.resolve("spool").toString(), "--tls-cert", cert.toString(),
          "--tls-key", key.toString(), "--apply-to", "mysql://root@127.0.0.1:" + target.port());
      assertThat(r.err()).contains("open file: " + open);
      assertThat(r.out()).startsWith("restored to latest").contains("the replica applied everything up to " + open);
      assertThat(PitrFixture.firstValue(target, "SELECT v FROM shop.marker")).isEqualTo("only-in-segments");
      assertThat(PitrFixture.checksums(target)).isEqualTo(expected);
    }
    MainTest.Result half = MainTest.run("restore", "serve", "--from", "file://" + archive, "--backup", "base",
        "--listen", "127.0.0.1:0", "--password-file", "x", "--tls-cert", cert.toString());
    assertThat(half.code()).isEqualTo(2);
    assertThat(half.err()).contains("--tls-cert and --tls-key go together");
  }

  /** Source, base dump, load, GTID at the target, destruction, archive; then restore serve --apply-to. */
  void scenario(String uri, List<String> store, List<String> archiveKey, List<String> readKey) throws Exception {
    Map<String, Object> made = source(uri, store, archiveKey);
    String gtid = (String) made.get("gtid");
    Object expected = made.get("checksums");
    Path dump = tmp.resolve("base.sql");
    try (MariaDbServer target = MariaDbServer.start(tmp.resolve("target"), "--server-id=7", "--skip-log-bin")) {
      PitrFixture.load(target, dump);
      MainTest.Result r = ok(concat(List.of("restore", "serve", "--from", uri, "--backup", "base", "--until-gtid", gtid,
          "--listen", "127.0.0.1:0", "--spool", tmp.resolve("spool").toString(),
          "--apply-to", "mysql://root@127.0.0.1:" + target.port()), store, readKey));
      assertThat(r.out()).startsWith("restored to GTID ").contains("the replica applied everything up to mysql-bin.",
          "(GTID " + gtid + ")");
      assertThat(r.err()).contains("replication stopped and reset");
      assertThat(PitrFixture.checksums(target)).isEqualTo(expected);
      try (var c = target.connection(); var st = c.createStatement(); var rs = st.executeQuery("SHOW SLAVE STATUS")) {
        assertThat(rs.next()).as("replication was reset").isFalse();
      }
    }
  }

  /** A source with a base dump (base.sql, registered as "base"), a workload, destruction, archived to {@code uri}. */
  Map<String, Object> source(String uri, List<String> store, List<String> archiveKey) throws Exception {
    PitrFixture.requireTools();
    Path dump = tmp.resolve("base.sql");
    try (MariaDbServer source = MariaDbServer.start(tmp.resolve("source"))) {
      source.exec("CREATE DATABASE shop", "CREATE TABLE shop.kv (k INT PRIMARY KEY, v INT) ENGINE=InnoDB");
      source.load("shop", 300, 11);
      BaseBackup base = PitrFixture.dump(source, "base", dump);
      ok(concat(List.of("backup", "register", "--from", uri, "--name", "base", "--file", base.file(), "--position",
          Long.toString(base.position()), "--gtid", base.gtid()), store));
      for (int i = 0; i < 100; i++) {
        source.exec("INSERT INTO shop.kv VALUES (" + i + ", " + i * i + ")");
      }
      source.load("shop", 900, 12);
      Map<String, Object> made = Map.of("gtid", PitrFixture.gtidBinlogPos(source), "checksums",
          PitrFixture.checksums(source));
      source.exec("DELETE FROM shop.kv WHERE k < 90", "DROP TABLE shop.t");
      source.flushLogs();
      ok(concat(List.of("archive", "--binlog-dir", source.dataDir().toString(), "--index", source.indexFile().toString(),
          "--to", uri, "--cursor", tmp.resolve("cursor.json").toString()), store, archiveKey));
      return made;
    }
  }

  @SafeVarargs
  static String[] concat(List<String>... parts) {
    return java.util.Arrays.stream(parts).flatMap(List::stream).toArray(String[]::new);
  }

  @Test
  @DisplayName("restore serve refuses bad usage with exit 2 (no password, a bad --listen or --timeout, --apply-password-file alone, no --listen), never echoing a password given in --apply-to")
  void usage() {
    MainTest.Result noPassword = MainTest.run("restore", "serve", "--from", "file://" + tmp, "--backup", "b",
        "--listen", "127.0.0.1:3307");
    assertThat(noPassword.code()).isEqualTo(2);
    assertThat(noPassword.err()).contains("restore serve needs --password-file F");
    MainTest.Result inline = MainTest.run("restore", "serve", "--from", "file://" + tmp, "--backup", "b",
        "--listen", "127.0.0.1:3307", "--apply-to", "mysql://root:hunter2@127.0.0.1:3306");
    assertThat(inline.code()).isEqualTo(2);
    assertThat(inline.err()).contains("--apply-to must be mysql://USER@HOST:PORT").doesNotContain("hunter2");
    MainTest.Result listen = MainTest.run("restore", "serve", "--from", "file://" + tmp, "--backup", "b",
        "--listen", "3307", "--password-file", "x");
    assertThat(listen.err()).contains("--listen must be HOST:PORT");
    MainTest.Result timeout = MainTest.run("restore", "serve", "--from", "file://" + tmp, "--backup", "b",
        "--listen", "127.0.0.1:3307", "--password-file", "x", "--timeout", "soon");
    assertThat(timeout.code()).isEqualTo(2);
    assertThat(timeout.err()).contains("--timeout must be like 6h");
    MainTest.Result applyPassword = MainTest.run("restore", "serve", "--from", "file://" + tmp, "--listen",
        "127.0.0.1:3307", "--password-file", "x", "--apply-password-file", "y");
    assertThat(applyPassword.code()).isEqualTo(2);
    assertThat(applyPassword.err()).contains("--apply-password-file goes with --apply-to");
    MainTest.Result noListen = MainTest.run("restore", "serve", "--from", "file://" + tmp, "--password-file", "x");
    assertThat(noListen.code()).isEqualTo(2);
    assertThat(noListen.err()).startsWith("binlog-archive: --listen is required");
  }

  static MainTest.Result ok(String... args) {
    MainTest.Result r = MainTest.run(args);
    assertThat(r.code()).as("%s%n%s", List.of(args), r.err()).isZero();
    return r;
  }
}
