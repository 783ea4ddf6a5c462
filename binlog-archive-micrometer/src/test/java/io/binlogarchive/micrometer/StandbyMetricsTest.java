package io.binlogarchive.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.Archiver;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.store.StoreLease;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("Of two agents sharing a store lease, the metrics")
class StandbyMetricsTest {
  @TempDir Path tmp;

  Archiver.Builder agent(Path binlogs, FileSystemSink sink, String holder) {
    return Archiver.builder().source(BinlogSource.directory(binlogs)).sink(sink).serverId("db1")
        .cursorFile(tmp.resolve(holder + ".cursor.json"))
        .lease(StoreLease.builder(sink, StoreLease.keyFor("", "db1")).holderId(holder).build());
  }

  @Test
  @DisplayName("show the standby as standing by until it takes the lease over, then as archiving")
  void standbyGauge() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 3);
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
    MeterRegistry registry = new SimpleMeterRegistry();
    MicrometerArchiveListener metrics = new MicrometerArchiveListener(Tags.of("server", "db1"));
    metrics.bindTo(registry);
    try (Archiver b = agent(binlogs, sink, "agent-B").listener(metrics).build()) {
      assertThat(registry.get("binlog.archive.standby").tag("server", "db1").gauge().value()).isZero();
      try (Archiver a = agent(binlogs, sink, "agent-A").build()) {
        assertThat(a.runOnce().succeeded()).isTrue();
        assertThat(b.runOnce().succeeded()).isFalse();
        assertThat(registry.get("binlog.archive.standby").gauge().value()).isEqualTo(1);
      } // A releases the lease
      assertThat(b.runOnce().succeeded()).isTrue();
      assertThat(registry.get("binlog.archive.standby").gauge().value()).isZero();
    }
  }
}
