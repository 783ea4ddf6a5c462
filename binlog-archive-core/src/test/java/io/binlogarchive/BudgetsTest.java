package io.binlogarchive;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.internal.pipeline.ThrottledOutputStream;
import io.binlogarchive.internal.pipeline.TokenBucket;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.spi.ForwardingSink;
import io.binlogarchive.testing.Fixtures;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("Budgets")
class BudgetsTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("a bandwidth limit holds the long-run rate of all writers to the configured bytes per second")
  void tokenBucketHoldsTheRate() throws Exception {
    AtomicLong now = new AtomicLong();
    List<Duration> sleeps = new ArrayList<>();
    TokenBucket bucket = new TokenBucket(1_000_000, 100_000, now::get, d -> {
      sleeps.add(d);
      now.addAndGet(d.toNanos()); // a fake sleep only advances the fake clock
    });
    ByteArrayOutputStream sink = new ByteArrayOutputStream();
    try (OutputStream a = new ThrottledOutputStream(sink, bucket); OutputStream b = new ThrottledOutputStream(sink, bucket)) {
      byte[] chunk = new byte[250_000];
      for (int i = 0; i < 10; i++) {
        (i % 2 == 0 ? a : b).write(chunk);
      }
    }
    assertThat(sink.size()).isEqualTo(2_500_000);
    // 2.5 MB at 1 MB/s with a 100 kB burst: 2.4 s of waiting, give or take rounding
    assertThat(Duration.ofNanos(now.get()).toMillis()).isBetween(2_399L, 2_401L);
    assertThat(sleeps).allSatisfy(d -> assertThat(d.toMillis()).isLessThanOrEqualTo(66));
  }

  @Test
  @DisplayName("a memory budget too small for parallelism x (buffer + sink buffering) fails build() saying what to lower")
  void memoryBudgetTooSmall() throws Exception {
    Sink buffering = new ForwardingSink(FileSystemSink.of(tmp.resolve("a"))) {
      @Override
      public long bufferedBytesPerUpload() {
        return 8 << 20;
      }
    };
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 2);
    assertThatThrownBy(() -> Archiver.builder().source(BinlogSource.directory(binlogs)).sink(buffering).serverId("db1")
        .cursorFile(tmp.resolve("c.json")).parallelism(4).bufferSize(1 << 20).memoryBudget(16L << 20).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("memoryBudget 16777216 bytes cannot hold parallelism 4 x (buffer 1048576 + sink buffering"
            + " 8388608) = 37748736 bytes; lower parallelism to 1");
    try (Archiver ok = Archiver.builder().source(BinlogSource.directory(binlogs)).sink(buffering).serverId("db1")
        .cursorFile(tmp.resolve("c.json")).parallelism(1).memoryBudget(16L << 20).build()) {
      assertThat(ok.runOnce().succeeded()).isTrue();
    }
  }

  @Test
  @DisplayName("a bandwidth-limited archiver still archives the same bytes")
  void throttledArchiverArchives() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 2);
    try (Archiver a = Archiver.builder().source(BinlogSource.directory(binlogs)).sink(FileSystemSink.of(tmp.resolve("a")))
        .serverId("db1").cursorFile(tmp.resolve("c.json")).maxUploadBytesPerSecond(512L << 20).build()) {
      RunSummary s = a.runOnce();
      assertThat(s.succeeded()).isTrue();
      assertThat(s.archivedCount()).isEqualTo(1);
    }
  }
}
