package io.binlogarchive.replication.live;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.testing.MariaDbTest;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@MariaDbTest
@DisplayName("The live stream measures its lag behind a real MariaDB in bytes")
class LiveStreamLagTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("held back, its lag is the bytes the server wrote past the spool's durable position, across files; caught up, 0")
  void lagAcrossFiles() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      AtomicBoolean hold = new AtomicBoolean();
      AtomicReference<SpoolPosition> heldAt = new AtomicReference<>();
      CountDownLatch release = new CountDownLatch(1);
      f.recorder.onDurable = p -> {
        if (hold.get() && heldAt.compareAndSet(null, p)) {
          try {
            release.await(LiveFixture.DEADLINE.toSeconds(), TimeUnit.SECONDS); // the stream reads nothing meanwhile
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
      };
      f.customize = b -> b.serverPositionInterval(Duration.ofMillis(100));
      f.startStream(f.source().build(), FsyncPolicy.perTransaction());
      f.server.load("w", 300, 1);
      f.awaitCaughtUp();
      f.await(() -> f.stream.lagBytes() == 0 && f.recorder.spoolLag == 0, "a measurement finds no lag");

      hold.set(true);
      f.server.load("w", 300, 2);
      f.server.flushLogs();
      f.server.load("w", 300, 3);
      f.await(() -> heldAt.get() != null, "the stream is held in its listener");
      SpoolPosition held = heldAt.get();
      assertThat(f.stream.durablePosition()).isEqualTo(held);
      f.await(() -> {
        Map<String, Long> server = binlogSizes(f);
        return server.equals(f.recorder.serverBinlogs) && f.recorder.spoolLag == expectedLag(server, held)
            && f.stream.lagBytes() == f.recorder.spoolLag;
      }, "a measurement of the quiet server: the lag is its end less the held position");
      Map<String, Long> server = binlogSizes(f);
      String newest = server.keySet().stream().reduce((a, b) -> b).orElseThrow();
      assertThat(newest).as("the server has moved on to another file").isNotEqualTo(held.file());
      long lag = f.stream.lagBytes();
      assertThat(lag).isEqualTo(server.get(held.file()) - held.endOffset() + server.get(newest))
          .isGreaterThan(server.get(newest));
      assertThat(f.recorder.positionUnknown).isNull();

      release.countDown();
      hold.set(false);
      f.awaitCaughtUp();
      f.await(() -> f.stream.lagBytes() == 0 && f.recorder.spoolLag == 0, "caught up, a measurement finds no lag");
      f.stopStream();
      assertThat(f.stream.lagBytes()).as("unknown once the stream stopped").isEqualTo(-1);
    }
  }

  @Test
  @DisplayName("without REPLICATION CLIENT the lag is unknown, says which grant is missing, and the stream goes on")
  void withoutReplicationClient() throws Exception {
    try (LiveFixture f = LiveFixture.start(tmp)) {
      f.server.exec("CREATE USER 'slaveonly'@'%' IDENTIFIED BY 'Only-Slave-1'",
          "GRANT REPLICATION SLAVE ON *.* TO 'slaveonly'@'%'");
      String first = f.server.binaryLogs().get(0);
      f.customize = b -> b.serverPositionInterval(Duration.ofMillis(100)).startFile(first);
      f.startStream(SourceConfig.builder("127.0.0.1", f.server.port(), "slaveonly")
          .password("Only-Slave-1".toCharArray()).tls(TlsMode.DISABLED).replicaServerId(79).build(),
          FsyncPolicy.perTransaction());
      f.server.load("w", 200, 4);
      f.await(() -> f.recorder.positionUnknown != null, "the probe reports the position unknown");
      assertThat(f.recorder.positionUnknown).contains("REPLICATION CLIENT", "'slaveonly'")
          .doesNotContain("Only-Slave-1");
      assertThat(f.stream.lagBytes()).isEqualTo(-1);
      f.awaitCaughtUp();
      f.assertSpoolMatchesServer();
      f.stopStream();
    }
  }

  /** Bytes after {@code p}: the rest of its file and every later file. */
  private static long expectedLag(Map<String, Long> server, SpoolPosition p) {
    long lag = 0;
    boolean after = false;
    for (Map.Entry<String, Long> e : server.entrySet()) {
      if (after) {
        lag += e.getValue();
      } else if (e.getKey().equals(p.file())) {
        lag += e.getValue() - p.endOffset();
        after = true;
      }
    }
    return lag;
  }

  private static Map<String, Long> binlogSizes(LiveFixture f) {
    Map<String, Long> sizes = new LinkedHashMap<>();
    try (Connection c = f.server.connection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SHOW BINARY LOGS")) {
      while (rs.next()) {
        sizes.put(rs.getString(1), rs.getLong(2));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return sizes;
  }
}
