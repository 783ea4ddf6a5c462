package io.binlogarchive.micrometer;

import io.binlogarchive.FileResult;
import io.binlogarchive.binlog.BinlogFile;
import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.restore.ArchiveCatalog;
import io.binlogarchive.ArchiveListener;
import io.binlogarchive.restore.ArchiveStatus;
import io.binlogarchive.Archiver;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.store.spi.ForwardingSink;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.RunSummary;
import io.binlogarchive.Sidecar;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.StoreException;
import io.binlogarchive.store.StoredObject;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("During a store outage, an archiver")
class StoreOutageTest {
  @TempDir Path tmp;

  /** Throws a retryable error on every call while the outage lasts. */
  static final class OutageSink extends ForwardingSink {
    final AtomicBoolean down = new AtomicBoolean();
    final AtomicInteger refused = new AtomicInteger();

    OutageSink(Sink delegate) {
      super(delegate);
    }

    private void check(String what) {
      if (down.get()) {
        refused.incrementAndGet();
        throw new StoreException(what + ": 503 Service Unavailable (injected outage)", true, null);
      }
    }

    @Override
    public SinkWriter create(String key, Map<String, String> metadata) throws IOException {
      check("create " + key);
      return super.create(key, metadata);
    }

    @Override
    public Optional<StoredObject> stat(String key) throws IOException {
      check("stat " + key);
      return super.stat(key);
    }

    @Override
    public InputStream open(String key, long offset) throws IOException {
      check("open " + key);
      return super.open(key, offset);
    }

    @Override
    public List<StoredObject> list(String prefix) throws IOException {
      check("list " + prefix);
      return super.list(prefix);
    }
  }

  final AtomicLong fakeMillis = new AtomicLong(1_700_000_000_000L);
  final Clock fakeClock = new Clock() {
    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(fakeMillis.get());
    }
  };

  @Test
  @DisplayName("retries within its budget, reports the lag and the failure in metrics and status, loses nothing, and catches up")
  void outage() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 6); // 5 closed
    FileSystemSink fs = FileSystemSink.of(tmp.resolve("archive"));
    OutageSink sink = new OutageSink(fs);
    AtomicInteger sleeps = new AtomicInteger();
    // the sleeper only moves the fake clock; on the 12th wait the store comes back (second run)
    AtomicInteger releaseAfter = new AtomicInteger(Integer.MAX_VALUE);
    RetryPolicy retry = RetryPolicy.builder().maxAttempts(6).initialBackoff(Duration.ofSeconds(2))
        .maxBackoff(Duration.ofSeconds(60)).maxElapsed(Duration.ofMinutes(10)).clock(fakeClock).random(() -> 0.5)
        .sleeper(d -> {
          fakeMillis.addAndGet(d.toMillis());
          if (sleeps.incrementAndGet() >= releaseAfter.get()) {
            sink.down.set(false);
          }
        })
        .build();
    MeterRegistry registry = new SimpleMeterRegistry();
    MicrometerArchiveListener metrics = new MicrometerArchiveListener(Tags.of("server", "db1"), fakeClock);
    metrics.bindTo(registry);
    List<String> committed = new CopyOnWriteArrayList<>();
    ArchiveListener order = new ArchiveListener() {
      @Override
      public void cursorCommitted(Cursor c) {
        committed.add(c.lastSyncedFile());
      }
    };
    ArchiveListener both = new ArchiveListener() {
      @Override
      public void runStarted(int n) {
        metrics.runStarted(n);
      }

      @Override
      public void fileStarted(io.binlogarchive.binlog.BinlogFile f) {
        metrics.fileStarted(f);
      }

      @Override
      public void fileArchived(io.binlogarchive.FileResult r) {
        metrics.fileArchived(r);
      }

      @Override
      public void fileSkipped(io.binlogarchive.FileResult r) {
        metrics.fileSkipped(r);
      }

      @Override
      public void fileFailed(io.binlogarchive.binlog.BinlogFile f, Throwable e) {
        metrics.fileFailed(f, e);
      }

      @Override
      public void retryScheduled(String what, int attempt, Duration delay, Throwable error) {
        metrics.retryScheduled(what, attempt, delay, error);
      }

      @Override
      public void backlogMeasured(int files, long bytes) {
        metrics.backlogMeasured(files, bytes);
      }

      @Override
      public void cursorCommitted(Cursor c) {
        metrics.cursorCommitted(c);
        order.cursorCommitted(c);
      }

      @Override
      public void runFinished(RunSummary s) {
        metrics.runFinished(s);
      }
    };
    Path cursorFile = tmp.resolve("cursor.json");
    try (Archiver a = Archiver.builder().source(BinlogSource.directory(binlogs)).sink(sink).serverId("db1")
        .cursorFile(cursorFile).retryPolicy(retry).listener(both).clock(fakeClock).build()) {
      // 1. archive the five closed files; three more close, then the store goes down
      assertThat(a.runOnce().succeeded()).isTrue();
      assertThat(committed).hasSize(5);
      Path more = binlogs;
      for (int i = 7; i <= 9; i++) {
        String name = String.format("mysql-bin.%06d", i);
        java.nio.file.Files.copy(Fixtures.chain().resolve(name), more.resolve(name));
        java.nio.file.Files.writeString(more.resolve("mysql-bin.index"), "./" + name + "\n",
            java.nio.file.StandardOpenOption.APPEND);
      }
      sink.down.set(true);
      fakeMillis.addAndGet(Duration.ofMinutes(5).toMillis());

      // 2. a run during the outage retries up to its attempts, then reports the failure and the lag
      RunSummary failed = a.runOnce();
      assertThat(failed.succeeded()).isFalse();
      assertThat(failed.failure()).isInstanceOf(StoreException.class).hasMessageContaining("injected outage");
      assertThat(sleeps.get()).isEqualTo(5);
      assertThat(registry.get("binlog.archive.retries").counter().count()).isEqualTo(5);
      assertThat(registry.get("binlog.archive.runs").tag("outcome", "failure").counter().count()).isEqualTo(1);
      assertThat(registry.get("binlog.archive.lag.files").gauge().value()).isEqualTo(3);
      assertThat(registry.get("binlog.archive.lag.bytes").gauge().value()).isGreaterThan(2_000_000);
      assertThat(registry.get("binlog.archive.last.archived.age").gauge().value()).isGreaterThanOrEqualTo(300);
      assertThat(registry.get("binlog.archive.files.in.flight").gauge().value()).isZero();
      ArchiveStatus status = ArchiveStatus.of(ArchiveCatalog.of(fs, "", "db1"), cursorFile,
          BinlogSource.directory(binlogs), fakeClock);
      assertThat(status.lagFiles()).isEqualTo(3);
      assertThat(status.cursor()).get().extracting(Cursor::lastSyncedFile).isEqualTo("mysql-bin.000005");

      // 3. the store comes back during the next run's retries: that run catches up, in order
      releaseAfter.set(sleeps.get() + 2);
      RunSummary recovered = a.runOnce();
      assertThat(recovered.succeeded()).isTrue();
      assertThat(sink.down.get()).isFalse();
      assertThat(committed).containsExactly("mysql-bin.000001", "mysql-bin.000002", "mysql-bin.000003",
          "mysql-bin.000004", "mysql-bin.000005", "mysql-bin.000006", "mysql-bin.000007", "mysql-bin.000008");
      assertThat(registry.get("binlog.archive.lag.files").gauge().value()).isZero();
      assertThat(registry.get("binlog.archive.files.archived").counter().count()).isEqualTo(8);
      assertThat(registry.get("binlog.archive.last.archived.age").gauge().value()).isZero();
      assertThat(registry.get("binlog.archive.failures").counter().count()).isZero();
    }
    List<Sidecar> sidecars = ArchiveCatalog.of(fs, "", "db1").sidecars("t0001");
    assertThat(sidecars).hasSize(8);
  }
}
