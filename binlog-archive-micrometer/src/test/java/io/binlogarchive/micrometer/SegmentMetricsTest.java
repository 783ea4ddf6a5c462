package io.binlogarchive.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.Archiver;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.testing.ManualClock;
import io.binlogarchive.SegmentArchiver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("For a segment archiver, the metrics")
class SegmentMetricsTest {
  @TempDir Path tmp;
  final MeterRegistry registry = new SimpleMeterRegistry();
  final MicrometerArchiveListener metrics = new MicrometerArchiveListener(Tags.of("server", "db1"));
  Path binlogs;

  @BeforeEach
  void setUp() throws Exception {
    binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 3);
    metrics.bindTo(registry);
  }

  private Archiver archiver(Clock clock) throws java.io.IOException {
    return Archiver.builder().source(BinlogSource.directory(binlogs)).sink(FileSystemSink.of(tmp.resolve("archive")))
        .serverId("db1").cursorFile(tmp.resolve("cursor.json")).listener(metrics).clock(clock).build();
  }

  @Test
  @DisplayName("count stored segments and show the live position and how long ago it was stored")
  void segmentMeters() throws Exception {
    try (Archiver archiver = archiver(Clock.systemUTC());
        SegmentArchiver live = SegmentArchiver.builder(archiver).directory(binlogs).maxBytes(4096).build()) {
      assertThat(registry.get("binlog.archive.live.age").gauge().value()).isEqualTo(-1);
      long size = Files.size(binlogs.resolve("mysql-bin.000003"));
      live.durable("mysql-bin.000003", size);
      live.flush();
      assertThat(registry.get("binlog.archive.segments.archived").counter().count()).isGreaterThanOrEqualTo(1);
      assertThat(registry.get("binlog.archive.live.position").gauge().value()).isEqualTo(size);
      assertThat(registry.get("binlog.archive.live.age").gauge().value()).isGreaterThanOrEqualTo(0);
    }
  }

  @Test
  @DisplayName("show the bytes the server wrote past the stored live position, across files, and since when they wait")
  void liveLag() throws Exception {
    ManualClock clock = new ManualClock(Instant.parse("2026-12-06T10:00:00Z"));
    try (Archiver archiver = archiver(clock);
        SegmentArchiver live = SegmentArchiver.builder(archiver).directory(binlogs).maxBytes(4096).build()) {
      assertThat(registry.get("binlog.archive.live.lag.bytes").gauge().value()).isEqualTo(-1);
      assertThat(registry.get("binlog.archive.live.lag.seconds").gauge().value()).isEqualTo(-1);
      long size1 = Files.size(binlogs.resolve("mysql-bin.000001"));
      long size2 = Files.size(binlogs.resolve("mysql-bin.000002"));
      long size3 = Files.size(binlogs.resolve("mysql-bin.000003"));
      live.durable("mysql-bin.000003", size3);
      live.flush();
      Map<String, Long> server = new LinkedHashMap<>();
      server.put("mysql-bin.000001", size1); // before anything reported here: not counted
      server.put("mysql-bin.000002", size2);
      server.put("mysql-bin.000003", size3 + 1000);
      server.put("mysql-bin.000004", 500L);
      live.serverPosition(server);
      assertThat(registry.get("binlog.archive.live.lag.bytes").gauge().value()).isEqualTo(1500);
      assertThat(registry.get("binlog.archive.live.lag.seconds").gauge().value()).isZero();
      clock.advance(Duration.ofSeconds(30));
      server.put("mysql-bin.000004", 800L);
      live.serverPosition(server);
      assertThat(registry.get("binlog.archive.live.lag.bytes").gauge().value()).isEqualTo(1800);
      assertThat(registry.get("binlog.archive.live.lag.seconds").gauge().value())
          .as("dated by the first measurement that saw the server past the store").isEqualTo(30);
      server.put("mysql-bin.000003", size3);
      server.remove("mysql-bin.000004");
      live.serverPosition(server);
      assertThat(registry.get("binlog.archive.live.lag.bytes").gauge().value()).isZero();
      assertThat(registry.get("binlog.archive.live.lag.seconds").gauge().value()).isZero();
      live.serverPosition(null);
      assertThat(registry.get("binlog.archive.live.lag.bytes").gauge().value()).isEqualTo(-1);
      assertThat(registry.get("binlog.archive.live.lag.seconds").gauge().value()).isEqualTo(-1);
    }
  }

  @Test
  @DisplayName("count files archived whole as stored: the lag is what the server wrote past the newest of them")
  void liveLagAfterWholeFiles() throws Exception {
    try (Archiver archiver = archiver(Clock.systemUTC());
        SegmentArchiver live = SegmentArchiver.builder(archiver).directory(binlogs).maxBytes(4096).build()) {
      assertThat(archiver.runOnce().archivedCount()).isEqualTo(2); // mysql-bin.000003 is the open file
      Map<String, Long> server = new LinkedHashMap<>();
      server.put("mysql-bin.000001", Files.size(binlogs.resolve("mysql-bin.000001")));
      server.put("mysql-bin.000002", Files.size(binlogs.resolve("mysql-bin.000002")));
      server.put("mysql-bin.000003", 700L);
      live.serverPosition(server);
      assertThat(registry.get("binlog.archive.live.lag.bytes").gauge().value()).isEqualTo(700);
    }
  }
}
