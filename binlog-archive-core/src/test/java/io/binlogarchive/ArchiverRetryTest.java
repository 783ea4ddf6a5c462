package io.binlogarchive;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.testing.TestArchive;
import static io.binlogarchive.ArchiverTest.names;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The archiver under store failures, with a retry policy whose sleeper only records the waits. */
@DisplayName("Archiver with a failing store")
class ArchiverRetryTest {
  @TempDir Path tmp;
  Path binlogs;
  FileSystemSink fs;
  RetryPolicyTest.FakeTime time = new RetryPolicyTest.FakeTime();
  List<String> retries = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void chain() throws IOException {
    binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 4);
    fs = FileSystemSink.of(tmp.resolve("archive"));
  }

  /** Fails the first {@code createFailures} creates and the first {@code commitFailures} commits. */
  static final class FlakySink extends TestArchive.DelegatingSink {
    final AtomicInteger creates = new AtomicInteger();
    final AtomicInteger commits = new AtomicInteger();
    final int createFailures;
    final int commitFailures;
    final boolean retryable;
    /** the commit reaches the store, but its answer is lost */
    final boolean failAfterCommit;

    FlakySink(Sink delegate, int createFailures, int commitFailures, boolean retryable, boolean failAfterCommit) {
      super(delegate);
      this.createFailures = createFailures;
      this.commitFailures = commitFailures;
      this.retryable = retryable;
      this.failAfterCommit = failAfterCommit;
    }

    @Override
    public SinkWriter create(String key, Map<String, String> metadata) throws IOException {
      int n = creates.incrementAndGet();
      if (n <= createFailures) {
        throw new StoreException("create " + key + " failed (#" + n + ")", retryable, null);
      }
      return super.create(key, metadata);
    }

    @Override
    public void beforeCommit(String key) {
      if (!failAfterCommit && commits.incrementAndGet() <= commitFailures) {
        throw new StoreException("commit " + key + " failed (#" + commits.get() + ")", retryable, null);
      }
    }

    @Override
    public void afterCommit(String key, StoredObject stored) {
      if (failAfterCommit && commits.incrementAndGet() <= commitFailures) {
        throw new StoreException("commit " + key + ": connection reset before the answer", retryable, null);
      }
    }
  }

  Archiver archiver(Sink sink) throws IOException {
    return Archiver.builder()
        .source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index")))
        .sink(sink)
        .serverId("db1")
        .cursorFile(tmp.resolve("cursor.json"))
        .retryPolicy(RetryPolicy.builder().clock(time).sleeper(time::sleep).random(() -> 0.999_999).maxAttempts(10)
            .build())
        .listener(new ArchiveListener() {
          @Override
          public void retryScheduled(String what, int attempt, Duration delay, Throwable error) {
            retries.add(what + " #" + attempt);
          }
        })
        .build();
  }

  void assertArchiveComplete() throws IOException {
    List<Sidecar> sidecars = TestArchive.sidecars(fs, "");
    assertThat(sidecars).extracting(Sidecar::file).containsExactlyElementsOf(names(1, 3));
    for (Sidecar s : sidecars) {
      assertThat(TestArchive.decode(fs, s)).isEqualTo(Files.readAllBytes(binlogs.resolve(s.file())));
    }
    assertThat(fs.list("")).hasSize(6);
    assertThat(TestArchive.allFiles(fs.root())).as("no temporary files left").hasSize(6);
  }

  @Test
  @DisplayName("completes through transient create and commit failures, with backoffs that grow and are capped")
  void transientFailures() throws IOException {
    FlakySink sink = new FlakySink(fs, 4, 3, true, false);
    try (Archiver a = archiver(sink)) {
      RunSummary s = a.runOnce();
      assertThat(s.failure()).isNull();
      assertThat(s.archivedCount()).isEqualTo(3);
      assertThat(a.cursor()).get().extracting(Cursor::lastSyncedFile).isEqualTo("mysql-bin.000003");
    }
    assertArchiveComplete();
    // 4 failed creates, then 3 failed commits, all on the first file's upload: 7 waits
    assertThat(retries).containsExactly("archive mysql-bin.000001 #1", "archive mysql-bin.000001 #2",
        "archive mysql-bin.000001 #3", "archive mysql-bin.000001 #4", "archive mysql-bin.000001 #5",
        "archive mysql-bin.000001 #6", "archive mysql-bin.000001 #7");
    assertThat(time.sleeps).extracting(Duration::toSeconds).containsExactly(1L, 3L, 7L, 15L, 31L, 59L, 59L);
    assertThat(time.sleeps).isSortedAccordingTo(Duration::compareTo).allMatch(d -> d.compareTo(Duration.ofSeconds(60)) <= 0);
  }

  @Test
  @DisplayName("a commit whose answer was lost is retried and finds its own object, which it adopts without a duplicate")
  void lostCommitAnswer() throws IOException {
    FlakySink sink = new FlakySink(fs, 0, 1, true, true);
    try (Archiver a = archiver(sink)) {
      RunSummary s = a.runOnce();
      assertThat(s.failure()).isNull();
      assertThat(s.archivedCount()).isEqualTo(3);
    }
    assertArchiveComplete();
    assertThat(retries).containsExactly("archive mysql-bin.000001 #1");
  }

  @Test
  @DisplayName("a fatal store error fails the file at once: one attempt, no wait, nothing stored, cursor unmoved")
  void fatalError() throws IOException {
    FlakySink sink = new FlakySink(fs, 1, 0, false, false);
    try (Archiver a = archiver(sink)) {
      RunSummary s = a.runOnce();
      assertThat(s.failure()).isInstanceOf(StoreException.class).hasMessageContaining("mysql-bin.000001");
      assertThat(s.failedFile().name()).isEqualTo("mysql-bin.000001");
      assertThat(a.cursor()).isEmpty();
    }
    assertThat(sink.creates).hasValue(1);
    assertThat(time.sleeps).isEmpty();
    assertThat(retries).isEmpty();
    assertThat(TestArchive.allFiles(fs.root())).isEmpty();
  }

  @Test
  @DisplayName("a fatal commit error leaves no object and no temporary file behind")
  void fatalCommit() throws IOException {
    FlakySink sink = new FlakySink(fs, 0, 1, false, false);
    try (Archiver a = archiver(sink)) {
      RunSummary s = a.runOnce();
      assertThat(s.failure()).isInstanceOf(StoreException.class).hasMessageContaining("commit");
    }
    assertThat(sink.commits).hasValue(1);
    assertThat(TestArchive.allFiles(fs.root())).isEmpty();
  }
}
