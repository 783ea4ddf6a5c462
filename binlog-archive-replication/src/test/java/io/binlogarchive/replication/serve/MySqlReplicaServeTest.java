package io.binlogarchive.replication.serve;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.Archiver;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.RunSummary;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.replication.MySqlUrl;
import io.binlogarchive.replication.live.LiveStream;
import io.binlogarchive.replication.live.SourceConfig;
import io.binlogarchive.replication.live.SpoolListener;
import io.binlogarchive.replication.live.TestCertificates;
import io.binlogarchive.replication.live.TlsMode;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.MariaDbTest;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real MySQL 8+ server replicates from {@link BinlogServer}. Runs only when {@code
 * BINLOG_ARCHIVE_MYSQL_URL} names one, as {@code mysql://USER:PASSWORD@HOST:PORT}; skipped otherwise (no
 * MySQL server can run on the build machines). The user needs to create and drop databases, {@code SET
 * GLOBAL server_id}, {@code FLUSH BINARY LOGS}, replication (REPLICATION SLAVE, REPLICATION CLIENT) and
 * {@code CHANGE REPLICATION SOURCE} ({@code REPLICATION_SLAVE_ADMIN}); the server needs {@code log_bin} and
 * {@code gtid_mode=OFF} (MySQL's default): the test's own transactions are replayed into it, which GTIDs
 * would skip as executed.
 *
 * <p>The archive is made from the same server: a workload in database {@code ba_serve_src}, written under
 * another {@code server_id} for the duration (a replica ignores events with its own id), in a binlog of its
 * own; the live stream fetches that file, the archiver stores it. Then the server replicates the archive
 * from {@code BinlogServer} on a channel of its own, by file and position ({@code SOURCE_AUTO_POSITION=0}),
 * rewriting the database to {@code ba_serve_dst}, and the checksum of the copy must equal the original's.
 * Everything the test creates is dropped again; the server id is put back.
 */
@MariaDbTest
@DisplayName("A real MySQL server replicates from serve (BINLOG_ARCHIVE_MYSQL_URL)")
class MySqlReplicaServeTest {
  private static final String CHANNEL = "binlog_archive_serve_test";
  private static final String SRC = "ba_serve_src";
  private static final String DST = "ba_serve_dst";
  private static final String SERVE_USER = "repl";
  private static final String SERVE_PASSWORD = "s3rve-MySQL";

  @TempDir Path tmp;
  MySqlUrl mysql;

  @BeforeEach
  void url() {
    mysql = MySqlUrl.fromEnvironmentOrSkip();
  }

  Connection connect() throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", mysql.user());
    p.setProperty("password", mysql.password());
    p.setProperty("allowPublicKeyRetrieval", "true");
    return DriverManager.getConnection("jdbc:mariadb://" + mysql.host() + ":" + mysql.port() + "/", p);
  }

  @Test
  @DisplayName("CHANGE REPLICATION SOURCE TO serve, START REPLICA: the replayed table has the original's checksum")
  void replicatesArchive() throws Exception {
    String workloadFile;
    long checksum;
    try (Connection admin = connect(); Statement st = admin.createStatement()) {
      assertThat(single(st, "SELECT @@version")).matches("[89]\\..*|\\d\\d\\..*");
      Assumptions.assumeTrue("OFF".equalsIgnoreCase(single(st, "SELECT @@global.gtid_mode")),
          "the MySQL server has gtid_mode on: the test's replayed transactions would be skipped as executed");
      cleanUp(st);
      st.execute("CREATE DATABASE " + SRC);
      st.execute("CREATE DATABASE " + DST);
      String originalId = single(st, "SELECT @@global.server_id");
      st.execute("SET GLOBAL server_id = " + (Long.parseLong(originalId) % 1_000_000 + 3_000_000));
      try {
        st.execute("FLUSH BINARY LOGS");
        try (Connection w = connect(); Statement ws = w.createStatement()) { // a new session takes the new id
          workloadFile = binlogStatus(ws)[0];
          ws.execute("USE " + SRC);
          ws.execute("CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(40), qty INT) ENGINE=InnoDB");
          for (int i = 0; i < 200; i++) {
            ws.execute("INSERT INTO t VALUES (" + i + ", 'item-" + i + "', " + (i * 7 % 13) + ")");
          }
          ws.execute("UPDATE t SET qty = qty + 1 WHERE id % 3 = 0");
          ws.execute("DELETE FROM t WHERE id >= 190");
        }
        st.execute("FLUSH BINARY LOGS");
      } finally {
        st.execute("SET GLOBAL server_id = " + originalId);
      }
      checksum = checksum(st, SRC);
    }
    try {
      Path spool = tmp.resolve("spool");
      fetch(workloadFile, spool);
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
      try (Archiver a = Archiver.builder().source(BinlogSource.directory(spool)).sink(sink).serverId("mysql")
          .cursorFile(tmp.resolve("cursor.json")).retryPolicy(RetryPolicy.none()).build()) {
        RunSummary s = a.runOnce();
        assertThat(s.failure()).isNull();
        assertThat(s.results()).extracting(r -> r.file().name()).contains(workloadFile);
      }
      ArchiveReader reader = ArchiveReader.builder().sink(sink).serverId("mysql").retryPolicy(RetryPolicy.none())
          .build();
      RestorePlan plan = reader.planFrom(workloadFile, 4, RestoreTarget.latest());
      assertThat(plan.flavor()).isEqualTo("mysql");
      InetAddress local = localAddressTowardsServer();
      // over TLS: MySQL's replica logs in with caching_sha2_password, whose first login is a full
      // authentication (the password in clear inside TLS); MySQL 9 has no mysql_native_password
      TestCertificates certs = TestCertificates.make(tmp.resolve("certs"));
      try (BinlogServer server = BinlogServer.builder().reader(reader).plan(plan).spool(tmp.resolve("serve-spool"))
          .listen(new InetSocketAddress(local, 0)).user(SERVE_USER).tls(certs.serverCertificate(), certs.serverKey())
          .password(SERVE_PASSWORD.getBytes(StandardCharsets.UTF_8))
          .build().start();
          Connection admin = connect(); Statement st = admin.createStatement()) {
        st.execute("CHANGE REPLICATION FILTER REPLICATE_REWRITE_DB = ((" + SRC + ", " + DST + ")) FOR CHANNEL '"
            + CHANNEL + "'");
        st.execute("CHANGE REPLICATION SOURCE TO SOURCE_HOST='" + local.getHostAddress() + "', SOURCE_PORT="
            + server.address().getPort() + ", SOURCE_USER='" + SERVE_USER + "', SOURCE_PASSWORD='" + SERVE_PASSWORD
            + "', SOURCE_LOG_FILE='" + plan.startFile() + "', SOURCE_LOG_POS=" + plan.startPosition()
            + ", SOURCE_AUTO_POSITION=0, SOURCE_SSL=1 FOR CHANNEL '" + CHANNEL + "'");
        st.execute("START REPLICA FOR CHANNEL '" + CHANNEL + "'");
        ServePosition at = server.awaitTarget(Duration.ofMinutes(5));
        try (ResultSet rs = st.executeQuery("SELECT SOURCE_POS_WAIT('" + at.file() + "', " + at.position()
            + ", 300, '" + CHANNEL + "')")) {
          rs.next();
          assertThat(rs.getObject(1)).as("SOURCE_POS_WAIT for %s (null: the applier stopped)", at).isNotNull();
          assertThat(rs.getLong(1)).as("SOURCE_POS_WAIT for %s (-1: timed out)", at).isNotNegative();
        }
        assertThat(checksum(st, DST)).as("checksum of the copy replicated from serve").isEqualTo(checksum);
      }
    } finally {
      try (Connection admin = connect(); Statement st = admin.createStatement()) {
        cleanUp(st);
      }
    }
  }

  /** Streams {@code file} from the server into {@code spool} until the server closed it. */
  private void fetch(String file, Path spool) throws Exception {
    Set<String> closed = ConcurrentHashMap.newKeySet();
    SourceConfig source = SourceConfig.builder(mysql.host(), mysql.port(), mysql.user())
        .password(mysql.password().toCharArray())
        .tls(TlsMode.PREFERRED).replicaServerId(4_000_000_002L).build();
    LiveStream stream = LiveStream.builder(source, spool).startFile(file).listener(new SpoolListener() {
      @Override
      public void fileClosed(String name, long size) {
        closed.add(name);
        synchronized (closed) {
          closed.notifyAll();
        }
      }
    }).build();
    List<Throwable> failure = new ArrayList<>();
    Thread t = new Thread(() -> {
      try {
        stream.run();
      } catch (Throwable e) {
        failure.add(e);
      }
      synchronized (closed) {
        closed.notifyAll();
      }
    }, "fetch-" + file);
    t.start();
    try {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      synchronized (closed) {
        while (!closed.contains(file) && failure.isEmpty() && System.nanoTime() < deadline) {
          closed.wait(200);
        }
      }
      assertThat(failure).isEmpty();
      assertThat(closed).as("the live stream received all of %s", file).contains(file);
    } finally {
      stream.stop();
      t.join(TimeUnit.SECONDS.toMillis(60));
    }
  }

  private InetAddress localAddressTowardsServer() throws Exception {
    try (Socket s = new Socket(mysql.host(), mysql.port())) {
      return s.getLocalAddress();
    }
  }

  private static void cleanUp(Statement st) throws SQLException {
    try {
      st.execute("STOP REPLICA FOR CHANNEL '" + CHANNEL + "'");
      st.execute("RESET REPLICA ALL FOR CHANNEL '" + CHANNEL + "'");
    } catch (SQLException e) {
      // no such channel: nothing to stop
    }
    st.execute("DROP DATABASE IF EXISTS " + SRC);
    st.execute("DROP DATABASE IF EXISTS " + DST);
  }

  private static String[] binlogStatus(Statement st) throws SQLException {
    ResultSet rs;
    try {
      rs = st.executeQuery("SHOW BINARY LOG STATUS"); // MySQL 8.2+
    } catch (SQLException e) {
      rs = st.executeQuery("SHOW MASTER STATUS");
    }
    try (ResultSet r = rs) {
      assertThat(r.next()).as("the server writes a binlog").isTrue();
      return new String[] {r.getString(1), r.getString(2)};
    }
  }

  private static long checksum(Statement st, String db) throws SQLException {
    try (ResultSet rs = st.executeQuery("CHECKSUM TABLE " + db + ".t")) {
      assertThat(rs.next()).isTrue();
      return rs.getLong(2);
    }
  }

  private static String single(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
