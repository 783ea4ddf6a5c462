package io.binlogarchive.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.Archiver;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.SegmentArchiver;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("For a segment archiver, the metrics")
class SegmentMetricsTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("count stored segments and show the live position and how long ago it was stored")
  void segmentMeters() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 3);
    MeterRegistry registry = new SimpleMeterRegistry();
    MicrometerArchiveListener metrics = new MicrometerArchiveListener(Tags.of("server", "db1"));
    metrics.bindTo(registry);
    try (Archiver archiver = Archiver.builder().source(BinlogSource.directory(binlogs))
            .sink(FileSystemSink.of(tmp.resolve("archive"))).serverId("db1").cursorFile(tmp.resolve("cursor.json"))
            .listener(metrics).build();
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
}
