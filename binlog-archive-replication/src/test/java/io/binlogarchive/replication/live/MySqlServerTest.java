package io.binlogarchive.replication.live;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.replication.MySqlUrl;
import io.binlogarchive.replication.internal.BinlogEvents;
import io.binlogarchive.testing.MariaDbTest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs only when {@code BINLOG_ARCHIVE_MYSQL_URL} names a real MySQL 8+ server, as {@code
 * mysql://USER:PASSWORD@HOST:PORT}; the user needs {@code REPLICATION SLAVE, REPLICATION CLIENT}. No
 * MySQL server can run on the build machines (only MariaDB is packaged), so this is where
 * caching_sha2_password (fast path, RSA and TLS full authentication) and COM_BINLOG_DUMP_GTID meet a
 * real server; elsewhere they are tested from protocol examples.
 */
@MariaDbTest
@DisplayName("Against a real MySQL server (BINLOG_ARCHIVE_MYSQL_URL)")
class MySqlServerTest {
  @TempDir Path tmp;
  MySqlUrl mysql;

  @BeforeEach
  void url() {
    mysql = MySqlUrl.fromEnvironmentOrSkip();
  }

  SourceConfig.Builder config(TlsMode mode) {
    return SourceConfig.builder(mysql.host(), mysql.port(), mysql.user())
        .password(mysql.password().toCharArray()).tls(mode).replicaServerId(4_000_000_001L);
  }

  @Test
  @DisplayName("caching_sha2_password without TLS (RSA key exchange or fast path) and with TLS both log in")
  void authentication() throws Exception {
    for (TlsMode mode : List.of(TlsMode.DISABLED, TlsMode.REQUIRED, TlsMode.DISABLED)) {
      try (ReplicationClient c = ReplicationClient.connect(config(mode).build())) {
        assertThat(c.isMariaDb()).isFalse();
        assertThat(c.query("SELECT 1").get(0)[0]).isEqualTo("1");
      }
    }
  }

  @Test
  @DisplayName("COM_BINLOG_DUMP_GTID with the server's executed set: the stream starts with an artificial ROTATE")
  void dumpGtid() throws Exception {
    try (ReplicationClient c = ReplicationClient.connect(config(TlsMode.PREFERRED).build())) {
      c.prepareReplication();
      String executed = c.query("SELECT @@global.gtid_executed").get(0)[0];
      c.registerReplica();
      c.dumpGtid(executed == null ? "" : executed.replace("\n", ""));
      ReplicationClient.Received r = c.next("test");
      assertThat(BinlogEvents.type(r.payload, r.offset)).isEqualTo(BinlogEvents.ROTATE);
      ReplicationClient.Received fde = c.next("test");
      assertThat(BinlogEvents.type(fde.payload, fde.offset)).isEqualTo(BinlogEvents.FORMAT_DESCRIPTION);
    }
  }

  @Test
  @DisplayName("the live stream rebuilds the newest binlog up to the server's position")
  void stream() throws Exception {
    String newest;
    try (ReplicationClient c = ReplicationClient.connect(config(TlsMode.PREFERRED).build())) {
      List<String[]> logs = c.query("SHOW BINARY LOGS");
      newest = logs.get(logs.size() - 1)[0];
    }
    Path spool = tmp.resolve("spool");
    LiveFixture.Recorder recorder = new LiveFixture.Recorder();
    LiveStream stream = LiveStream.builder(config(TlsMode.PREFERRED).build(), spool).startFile(newest)
        .listener(recorder).build();
    Thread t = new Thread(() -> {
      try {
        stream.run();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    t.start();
    try {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (true) {
        String[] status;
        try (ReplicationClient c = ReplicationClient.connect(config(TlsMode.PREFERRED).build())) {
          List<String[]> rows;
          try {
            rows = c.query("SHOW BINARY LOG STATUS");
          } catch (ServerErrorException e) {
            rows = c.query("SHOW MASTER STATUS");
          }
          status = rows.get(0);
        }
        Path file = spool.resolve(status[0]);
        if (Files.exists(file) && Files.size(file) == Long.parseLong(status[1])) {
          break;
        }
        assertThat(System.nanoTime()).as("spool catches up with " + status[0] + ":" + status[1]).isLessThan(deadline);
        recorder.awaitChange(200);
      }
    } finally {
      stream.stop();
      t.join(Duration.ofSeconds(30).toMillis());
    }
  }
}
