package io.binlogarchive.replication.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.binlogarchive.replication.internal.BinlogEvents;
import io.binlogarchive.testing.MariaDbServer;
import io.binlogarchive.testing.MariaDbTest;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against a real MariaDB that offers TLS with a certificate made for the test (openssl
 * command line): a CA, and a server certificate for IP 127.0.0.1 only.
 */
@MariaDbTest
@DisplayName("The replication client against a real MariaDB with TLS")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReplicationClientMariaDbTest {
  static final String TLS_USER = "repl_tls";
  @TempDir static Path tmp;
  MariaDbServer server;
  Path ca;
  Path otherCa;

  @BeforeAll
  void start() throws Exception {
    TestCertificates certs = TestCertificates.make(tmp.resolve("certs"));
    ca = certs.ca();
    otherCa = certs.otherCa();
    server = MariaDbServer.start(tmp.resolve("db"), "--ssl-ca=" + ca, "--ssl-cert=" + certs.serverCertificate(),
        "--ssl-key=" + certs.serverKey());
    server.exec("CREATE USER '" + LiveFixture.USER + "'@'%' IDENTIFIED BY '" + LiveFixture.PASSWORD + "'",
        "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '" + LiveFixture.USER + "'@'%'",
        "CREATE USER '" + TLS_USER + "'@'%' IDENTIFIED BY '" + LiveFixture.PASSWORD + "' REQUIRE SSL",
        "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '" + TLS_USER + "'@'%'");
    server.load("w", 200, 1);
  }

  @AfterAll
  void stop() throws Exception {
    server.close();
  }

  SourceConfig.Builder config(String user, TlsMode mode) {
    return SourceConfig.builder("127.0.0.1", server.port(), user).password(LiveFixture.PASSWORD.toCharArray()).tls(mode);
  }

  @Test
  @DisplayName("mysql_native_password without TLS: connected, replica queries accepted, events arrive")
  void nativeWithoutTls() throws Exception {
    try (ReplicationClient c = ReplicationClient.connect(config(LiveFixture.USER, TlsMode.DISABLED).build())) {
      assertThat(c.isTls()).isFalse();
      assertThat(c.isMariaDb()).isTrue();
      firstEvents(c);
    }
  }

  @Test
  @DisplayName("AuthSwitchRequest: answered first as caching_sha2_password, MariaDB switches to mysql_native_password and the login succeeds")
  void authSwitch() throws Exception {
    try (ReplicationClient c = ReplicationClient.connect(config(LiveFixture.USER, TlsMode.DISABLED).build(),
        ReplicationClient.CACHING_SHA2)) {
      assertThat(c.query("SELECT CURRENT_USER()").get(0)[0]).startsWith(LiveFixture.USER + "@");
    }
  }

  @Test
  @DisplayName("TLS required: the account that REQUIRE SSL gets in, and the stream flows over TLS")
  void tlsRequired() throws Exception {
    try (ReplicationClient c = ReplicationClient.connect(config(TLS_USER, TlsMode.REQUIRED).build())) {
      assertThat(c.isTls()).isTrue();
      assertThat(c.query("SHOW STATUS LIKE 'Ssl_version'").get(0)[1]).startsWith("TLS");
      firstEvents(c);
    }
  }

  @Test
  @DisplayName("TLS preferred uses TLS when the server offers it")
  void tlsPreferred() throws Exception {
    try (ReplicationClient c = ReplicationClient.connect(config(TLS_USER, TlsMode.PREFERRED).build())) {
      assertThat(c.isTls()).isTrue();
    }
  }

  @Test
  @DisplayName("TLS disabled: the REQUIRE SSL account is refused, with the server's message and no password in it")
  void tlsDisabledRefused() {
    assertThatThrownBy(() -> ReplicationClient.connect(config(TLS_USER, TlsMode.DISABLED).build()).close())
        .isInstanceOfSatisfying(ServerErrorException.class, e -> assertThat(e.errorCode()).isEqualTo(1045))
        .hasMessageContaining("Access denied").hasMessageNotContaining(LiveFixture.PASSWORD);
  }

  @Test
  @DisplayName("a wrong password is refused with error 1045; neither password appears in the message")
  void wrongPassword() {
    SourceConfig cfg = SourceConfig.builder("127.0.0.1", server.port(), LiveFixture.USER)
        .password("wrong-Secret-42".toCharArray()).tls(TlsMode.DISABLED).build();
    assertThatThrownBy(() -> ReplicationClient.connect(cfg).close())
        .isInstanceOfSatisfying(ServerErrorException.class, e -> assertThat(e.errorCode()).isEqualTo(1045))
        .hasMessageNotContaining("wrong-Secret-42").hasMessageNotContaining(LiveFixture.PASSWORD);
    assertThat(cfg.toString()).doesNotContain("wrong-Secret-42");
  }

  @Test
  @DisplayName("verify-ca accepts a certificate from the configured CA")
  void verifyCa() throws Exception {
    try (ReplicationClient c = ReplicationClient.connect(config(TLS_USER, TlsMode.VERIFY_CA).caFile(ca).build())) {
      assertThat(c.isTls()).isTrue();
    }
  }

  @Test
  @DisplayName("verify-ca refuses a certificate from another CA")
  void verifyCaOtherCa() {
    assertThatThrownBy(() -> ReplicationClient.connect(config(TLS_USER, TlsMode.VERIFY_CA).caFile(otherCa).build()).close())
        .isInstanceOf(IOException.class).hasMessageContaining("TLS handshake");
  }

  @Test
  @DisplayName("a live stream whose CA did not sign the server's certificate ends at once instead of reconnecting")
  void streamWithOtherCaEndsAtOnce() throws Exception {
    Throwable e = runUntilFailure(config(TLS_USER, TlsMode.VERIFY_CA).caFile(otherCa).build(), "other-ca");
    assertThat(e).isInstanceOf(IncompatibleSourceException.class).hasMessageContaining("TLS handshake with 127.0.0.1:"
        + server.port() + " (mode verify-ca)").hasMessageContaining("certificate does not verify");
  }

  @Test
  @DisplayName("a live stream connected by a name the certificate does not hold (verify-identity) ends at once")
  void streamWithWrongNameEndsAtOnce() throws Exception {
    Throwable e = runUntilFailure(byLocalhost().tls(TlsMode.VERIFY_IDENTITY).caFile(ca).build(), "wrong-name");
    assertThat(e).isInstanceOf(IncompatibleSourceException.class)
        .hasMessageContaining("(mode verify-identity)").hasMessageContaining("certificate does not verify");
  }

  /** The TLS account by the name localhost, which the certificate does not hold (skips where it is not 127.0.0.1). */
  private SourceConfig.Builder byLocalhost() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(
        java.net.InetAddress.getByName("localhost").getHostAddress().equals("127.0.0.1"),
        "localhost does not resolve to 127.0.0.1 here");
    return SourceConfig.builder("localhost", server.port(), TLS_USER).password(LiveFixture.PASSWORD.toCharArray());
  }

  /** Runs a live stream on its own thread; it must end by itself (a generous bound, not a timing claim). */
  private Throwable runUntilFailure(SourceConfig config, String spool) throws Exception {
    LiveStream stream = LiveStream.builder(config, tmp.resolve(spool))
        .reconnectDelay(java.time.Duration.ofMillis(50), java.time.Duration.ofMillis(500)).build();
    Throwable[] failure = new Throwable[1];
    Thread t = new Thread(() -> {
      try {
        stream.run();
      } catch (Throwable x) {
        failure[0] = x;
      }
    }, "live-stream");
    t.start();
    t.join(LiveFixture.DEADLINE.toMillis());
    stream.stop();
    t.join(LiveFixture.DEADLINE.toMillis());
    assertThat(failure[0]).as("run() ended by itself with an error").isNotNull();
    assertThat(stream.connections()).isZero();
    return failure[0];
  }

  @Test
  @DisplayName("verify-identity accepts the certificate for the address connected to (IP SAN 127.0.0.1)")
  void verifyIdentity() throws Exception {
    try (ReplicationClient c = ReplicationClient.connect(config(TLS_USER, TlsMode.VERIFY_IDENTITY).caFile(ca).build())) {
      assertThat(c.isTls()).isTrue();
    }
  }

  @Test
  @DisplayName("verify-identity refuses the certificate when the host name connected to is not in it")
  void verifyIdentityWrongName() throws Exception {
    SourceConfig cfg = byLocalhost().tls(TlsMode.VERIFY_IDENTITY).caFile(ca).build();
    assertThatThrownBy(() -> ReplicationClient.connect(cfg).close())
        .isInstanceOf(IOException.class).hasMessageContaining("TLS handshake");
    SourceConfig caOnly = byLocalhost().tls(TlsMode.VERIFY_CA).caFile(ca).build();
    try (ReplicationClient c = ReplicationClient.connect(caOnly)) {
      assertThat(c.isTls()).as("verify-ca does not check the name").isTrue();
    }
  }

  @Test
  @DisplayName("MariaDB GTID start (@slave_connect_state): the first transaction sent is the one after the position")
  void mariaDbGtidStart() throws Exception {
    try (ReplicationClient c = ReplicationClient.connect(config(LiveFixture.USER, TlsMode.DISABLED).build())) {
      c.prepareReplication();
      c.setMariaDbGtidStart("0-1-3");
      c.registerReplica();
      c.dump("", 4);
      String first = null;
      TransactionTracker t = new TransactionTracker();
      for (int i = 0; i < 1000 && first == null; i++) {
        ReplicationClient.Received r = c.next("test");
        if (BinlogEvents.type(r.payload, r.offset) == BinlogEvents.MARIADB_GTID) {
          t.accept(r.payload, r.offset, r.length(), c.checksumCrc32());
          first = "0-" + BinlogEvents.serverId(r.payload, r.offset) + "-" + BinlogEvents.u64(r.payload, r.offset + BinlogEvents.HEADER);
        }
      }
      assertThat(first).isEqualTo("0-1-4");
    }
  }

  /** The replica's setup, registration and a dump from the first file: a ROTATE then the format description. */
  private void firstEvents(ReplicationClient c) throws IOException {
    c.prepareReplication();
    assertThat(c.checksumCrc32()).isTrue();
    c.registerReplica();
    c.dump("mysql-bin.000001", 4);
    ReplicationClient.Received rotate = c.next("test");
    assertThat(BinlogEvents.type(rotate.payload, rotate.offset)).isEqualTo(BinlogEvents.ROTATE);
    assertThat(BinlogEvents.flags(rotate.payload, rotate.offset) & BinlogEvents.ARTIFICIAL_FLAG).isNotZero();
    assertThat(BinlogEvents.rotateName(rotate.payload, rotate.offset, rotate.length(), true)).isEqualTo("mysql-bin.000001");
    ReplicationClient.Received fde = c.next("test");
    assertThat(BinlogEvents.type(fde.payload, fde.offset)).isEqualTo(BinlogEvents.FORMAT_DESCRIPTION);
  }
}
