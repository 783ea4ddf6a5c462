package io.binlogarchive.replication.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.binlogarchive.replication.serve.BinlogServer;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.restore.RestoreFixture;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.MariaDbTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code restore serve}'s TLS listener and its {@code caching_sha2_password}, from the clients'
 * side: this module's own replication client (TLS modes, caching_sha2_password first) and the
 * {@code mariadb} command-line client with its caching_sha2_password plugin, against a {@link
 * BinlogServer} serving the archived MariaDB fixture chain (server id 3).
 */
@DisplayName("serve's TLS listener and caching_sha2_password, through real clients")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReplicationClientServeTest {
  static final String PASSWORD = "serve-Sha2-pass";
  @TempDir static Path tmp;
  TestCertificates certs;
  ArchiveReader reader;
  RestorePlan plan;
  int spools;

  @BeforeAll
  void archive() throws Exception {
    certs = TestCertificates.make(tmp.resolve("certs"));
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
    RestoreFixture.archiveChain(sink, tmp.resolve("work"), 3);
    reader = RestoreFixture.reader(sink);
    plan = reader.planFrom("mysql-bin.000001", 4, RestoreTarget.latest());
  }

  BinlogServer.Builder server() {
    return BinlogServer.builder().reader(reader).plan(plan).spool(tmp.resolve("spool" + ++spools))
        .password(PASSWORD.getBytes(StandardCharsets.UTF_8));
  }

  BinlogServer tlsServer() throws IOException {
    return server().tls(certs.serverCertificate(), certs.serverKey()).build().start();
  }

  SourceConfig config(BinlogServer server, TlsMode mode, String password) {
    SourceConfig.Builder b = SourceConfig.builder("127.0.0.1", server.address().getPort(), "repl")
        .password(password.toCharArray()).tls(mode);
    return (mode.verifiesChain() ? b.caFile(certs.ca()) : b).build();
  }

  @Test
  @DisplayName("caching_sha2_password over TLS (verify-identity with the test CA): the first login is a full authentication, a second one the fast path; a wrong password gets 1045")
  void cachingSha2OverTls() throws Exception {
    try (BinlogServer server = tlsServer()) {
      for (int i = 0; i < 2; i++) {
        try (ReplicationClient c = ReplicationClient.connect(config(server, TlsMode.VERIFY_IDENTITY, PASSWORD),
            ReplicationClient.CACHING_SHA2)) {
          assertThat(c.isTls()).isTrue();
          assertThat(c.query("SELECT @@GLOBAL.SERVER_ID").get(0)[0]).isEqualTo("3");
        }
      }
      assertThatThrownBy(() -> ReplicationClient.connect(config(server, TlsMode.REQUIRED, "not-it"),
          ReplicationClient.CACHING_SHA2).close()).isInstanceOfSatisfying(ServerErrorException.class,
              e -> assertThat(e.errorCode()).isEqualTo(1045));
      try (ReplicationClient c = ReplicationClient.connect(config(server, TlsMode.VERIFY_CA, PASSWORD))) {
        assertThat(c.isTls()).as("mysql_native_password over TLS too").isTrue();
      }
    }
  }

  @Test
  @DisplayName("with a certificate, serve requires TLS: a client that does not ask for it is refused with a clear error")
  void tlsRequired() throws Exception {
    try (BinlogServer server = tlsServer()) {
      assertThat(server.replicaStatements(null, false).get(0)).contains("MASTER_SSL=1");
      assertThatThrownBy(() -> ReplicationClient.connect(config(server, TlsMode.DISABLED, PASSWORD)).close())
          .isInstanceOf(ServerErrorException.class).hasMessageContaining("binlog-archive serve requires TLS");
    }
  }

  @Test
  @DisplayName("without a certificate, caching_sha2_password full authentication is refused with a clear error (no password in clear, no RSA key)")
  void cachingSha2WithoutTlsRefused() throws Exception {
    try (BinlogServer server = server().build().start()) {
      assertThat(server.replicaStatements(null, false).get(0)).doesNotContain("MASTER_SSL");
      assertThatThrownBy(() -> ReplicationClient.connect(config(server, TlsMode.PREFERRED, PASSWORD),
          ReplicationClient.CACHING_SHA2).close()).isInstanceOf(ServerErrorException.class)
          .hasMessageContaining("caching_sha2_password full authentication only over TLS")
          .hasMessageNotContaining(PASSWORD);
      try (ReplicationClient c = ReplicationClient.connect(config(server, TlsMode.PREFERRED, PASSWORD))) {
        assertThat(c.isTls()).isFalse();
        assertThat(c.query("SELECT @@GLOBAL.SERVER_ID").get(0)[0]).isEqualTo("3");
      }
    }
  }

  @Test
  @DisplayName("a key that does not belong to the certificate, or a file that holds no key, stops start() naming the file")
  void badKey() throws Exception {
    try (BinlogServer server = server().tls(certs.serverCertificate(), certs.otherKey()).build()) {
      assertThatThrownBy(server::start).isInstanceOf(IOException.class)
          .hasMessageContaining("the private key in " + certs.otherKey() + " does not belong to the certificate");
    }
    try (BinlogServer server = server().tls(certs.serverCertificate(), certs.ca()).build()) {
      assertThatThrownBy(server::start).isInstanceOf(IOException.class)
          .hasMessageContaining("the TLS private key file " + certs.ca()).hasMessageContaining("no PEM private key");
    }
  }

  @Test
  @MariaDbTest
  @DisplayName("the mariadb client with --default-auth=caching_sha2_password logs in: over TLS with --ssl-verify-server-cert (full authentication), and without TLS where serve switches it to mysql_native_password")
  void mariadbClient() throws Exception {
    try (BinlogServer server = tlsServer()) {
      assertThat(mariadb(server, "--ssl-ca=" + certs.ca(), "--ssl-verify-server-cert")).isEqualTo("3");
    }
    try (BinlogServer server = server().build().start()) {
      assertThat(mariadb(server, "--skip-ssl")).isEqualTo("3");
    }
  }

  /** Runs {@code SELECT @@GLOBAL.SERVER_ID} with the mariadb client (caching_sha2_password first); its output. */
  static String mariadb(BinlogServer server, String... tls) throws Exception {
    Path out = tmp.resolve("mariadb.out");
    java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("mariadb", "--no-defaults",
        "--host=127.0.0.1", "--port=" + server.address().getPort(), "--user=repl",
        "--default-auth=caching_sha2_password", "--batch", "--skip-column-names"));
    cmd.addAll(java.util.List.of(tls));
    cmd.add("--execute=SELECT @@GLOBAL.SERVER_ID");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
    pb.environment().put("MYSQL_PWD", PASSWORD);
    Process p = pb.start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(Files.readString(out)).isZero();
    return Files.readString(out).strip();
  }
}
