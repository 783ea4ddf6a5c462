package io.binlogarchive.replication.live;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.testing.MariaDbTest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@MariaDbTest
@DisplayName("A live stream refused for lack of privileges or credentials fails with a clear error instead of retrying")
class LiveStreamPrivilegesTest {
  private static final String PASSWORD = "s3cret-Priv!";

  @TempDir Path tmp;

  @Test
  @DisplayName("REPLICATION SLAVE without REPLICATION CLIENT: SHOW BINARY LOGS is refused, run() names server, user and grant")
  void withoutReplicationClient() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      ServerErrorException e = runUntilFailure(f, "slaveonly", "REPLICATION SLAVE");
      assertThat(e.errorCode()).isEqualTo(1227);
      assertThat(e.getMessage()).contains("127.0.0.1:" + f.server.port(), "'slaveonly'", "SHOW BINARY LOGS",
          "grant REPLICATION CLIENT ON *.* TO 'slaveonly'", "not retried").doesNotContain(PASSWORD);
      assertThat(f.stream.connections()).as("connections made before giving up").isEqualTo(1);
    }
  }

  @Test
  @DisplayName("REPLICATION CLIENT without REPLICATION SLAVE: the dump is refused, run() says to grant REPLICATION SLAVE")
  void withoutReplicationSlave() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      ServerErrorException e = runUntilFailure(f, "clientonly", "REPLICATION CLIENT");
      assertThat(e.errorCode()).as("MariaDB answers 1045 here, MySQL 1227").isIn(1045, 1227);
      assertThat(e.getMessage()).contains("127.0.0.1:" + f.server.port(), "'clientonly'",
          "grant REPLICATION SLAVE ON *.* TO 'clientonly'");
      assertThat(f.stream.connections()).as("connections made before giving up").isEqualTo(1);
      assertThat(Files.exists(f.spool.resolve("mysql-bin.index")) ? Files.readString(f.spool.resolve("mysql-bin.index"))
          : "").as("nothing spooled").isBlank();
    }
  }

  @Test
  @DisplayName("a wrong password: error 1045 ends run() at once, without the password in the message")
  void wrongPassword() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      ServerErrorException e = runUntilFailure(f, LiveFixture.USER, "not-the-Password-7".toCharArray());
      assertThat(e.errorCode()).isEqualTo(1045);
      assertThat(e.getMessage()).contains("127.0.0.1:" + f.server.port(), "'" + LiveFixture.USER + "'", "password")
          .doesNotContain("not-the-Password-7").doesNotContain(LiveFixture.PASSWORD);
      assertThat(f.stream.connections()).isZero();
    }
  }

  @Test
  @DisplayName("TLS required against a server without TLS: run() ends at once, naming the server and the mode")
  void tlsRequiredWithoutServerTls() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      Throwable e = runUntilFailure(f, f.source().tls(TlsMode.REQUIRED).build());
      assertThat(e).isInstanceOf(IncompatibleSourceException.class)
          .hasMessageContaining("TLS mode required but server 127.0.0.1:" + f.server.port() + " does not offer TLS");
      assertThat(f.stream.connections()).isZero();
    }
  }

  @Test
  @DisplayName("an account with a pre-4.1 password that the server refuses (secure-auth): error 1275 ends run() at once")
  void oldPasswordRefusedByServer() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      Throwable e = runUntilFailure(f, oldPasswordAccount(f));
      assertThat(e).isInstanceOfSatisfying(ServerErrorException.class, s -> assertThat(s.errorCode()).isEqualTo(1275))
          .hasMessageContaining("'oldpw'").hasMessageContaining("not retried").hasMessageContaining("pre-4.1 password")
          .hasMessageNotContaining(PASSWORD);
      assertThat(f.stream.connections()).isZero();
    }
  }

  @Test
  @DisplayName("an account on an authentication plugin the client does not speak (mysql_old_password, secure-auth"
      + " off): run() ends at once, naming it")
  void unsupportedAuthPlugin() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp, "--secure-auth=OFF")) {
      Throwable e = runUntilFailure(f, oldPasswordAccount(f));
      assertThat(e).isInstanceOf(IncompatibleSourceException.class)
          .hasMessageContaining("oldpw at 127.0.0.1:" + f.server.port()).hasMessageContaining("mysql_old_password")
          .hasMessageNotContaining(PASSWORD);
      assertThat(f.stream.connections()).isZero();
    }
  }

  /** An account {@code oldpw} with a pre-4.1 password hash (plugin mysql_old_password). */
  private static SourceConfig oldPasswordAccount(LiveFixture f) throws Exception {
    String oldHash;
    try (java.sql.Connection c = f.server.connection(); java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery("SELECT OLD_PASSWORD('" + PASSWORD + "')")) {
      assertThat(rs.next()).isTrue();
      oldHash = rs.getString(1);
    }
    f.server.exec("CREATE USER 'oldpw'@'%' IDENTIFIED VIA mysql_old_password USING '" + oldHash + "'",
        "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'oldpw'@'%'");
    return SourceConfig.builder("127.0.0.1", f.server.port(), "oldpw").password(PASSWORD.toCharArray())
        .tls(TlsMode.DISABLED).replicaServerId(78).build();
  }

  /** Creates {@code user} with only {@code privilege} and runs the stream as that user. */
  private static ServerErrorException runUntilFailure(LiveFixture f, String user, String privilege) throws Exception {
    f.server.exec("CREATE USER '" + user + "'@'%' IDENTIFIED BY '" + PASSWORD + "'",
        "GRANT " + privilege + " ON *.* TO '" + user + "'@'%'");
    return runUntilFailure(f, user, PASSWORD.toCharArray());
  }

  /** Runs the stream as {@code user}; the stream must end by itself with a server error. */
  private static ServerErrorException runUntilFailure(LiveFixture f, String user, char[] password) throws Exception {
    Throwable e = runUntilFailure(f, SourceConfig.builder("127.0.0.1", f.server.port(), user).password(password)
        .tls(TlsMode.DISABLED).replicaServerId(78).build());
    assertThat(e).isInstanceOf(ServerErrorException.class);
    return (ServerErrorException) e;
  }

  /** Runs the stream with {@code config}; the stream must end by itself with an error, returned. */
  private static Throwable runUntilFailure(LiveFixture f, SourceConfig config) throws Exception {
    f.startStream(config, FsyncPolicy.perTransaction());
    // A stream that retried would reconnect every 50-500 ms and never end: the join below would run out
    // (a generous bound, not a timing claim).
    f.thread.join(LiveFixture.DEADLINE.toMillis());
    assertThat(f.thread.isAlive()).as("run() ended by itself").isFalse();
    assertThat(f.failure).isNotNull();
    return f.failure;
  }
}
