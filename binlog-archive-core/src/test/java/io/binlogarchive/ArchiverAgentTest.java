package io.binlogarchive;

import io.binlogarchive.binlog.BinlogFile;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.internal.ArchiveLayout;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.CursorStore;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoreLease;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.store.spi.ForwardingSink;
import io.binlogarchive.testing.Fixtures;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("A started archiver")
class ArchiverAgentTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("archives files as the server rotates and stops gracefully with a consistent cursor")
  void runsContinuously() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 4);
    LinkedBlockingQueue<String> committed = new LinkedBlockingQueue<>();
    List<String> order = new CopyOnWriteArrayList<>();
    Archiver archiver = Archiver.builder()
        .source(BinlogSource.directory(binlogs))
        .sink(FileSystemSink.of(tmp.resolve("archive")))
        .serverId("db1")
        .cursorFile(tmp.resolve("cursor.json"))
        .pollInterval(Duration.ofHours(1)) // only the directory watch or wakeUp() may trigger runs
        .listener(new ArchiveListener() {
          @Override
          public void cursorCommitted(Cursor c) {
            order.add(c.lastSyncedFile());
            committed.add(c.lastSyncedFile());
          }
        })
        .build();
    try {
      archiver.start();
      assertThat(drainUntil(committed, "mysql-bin.000003")).isTrue();
      // the server rotates: 000005 becomes active, 000004 is closed
      for (int i = 5; i <= 6; i++) {
        String name = String.format("mysql-bin.%06d", i);
        Files.copy(Fixtures.chain().resolve(name), binlogs.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(binlogs.resolve("mysql-bin.index"), "./" + name + "\n", StandardOpenOption.APPEND);
      }
      archiver.wakeUp(); // the watch normally does this; calling it too keeps the test independent of the FS
      assertThat(drainUntil(committed, "mysql-bin.000005")).isTrue();
    } finally {
      archiver.close();
    }
    assertThat(order).containsExactly("mysql-bin.000001", "mysql-bin.000002", "mysql-bin.000003", "mysql-bin.000004",
        "mysql-bin.000005");
    try (CursorStore store = CursorStore.file(tmp.resolve("cursor.json"))) {
      assertThat(store.load()).get().extracting(Cursor::lastSyncedFile).isEqualTo("mysql-bin.000005");
    }
  }

  private static boolean drainUntil(LinkedBlockingQueue<String> q, String name) throws InterruptedException {
    while (true) {
      String s = q.poll(60, TimeUnit.SECONDS);
      if (s == null) {
        return false;
      }
      if (s.equals(name)) {
        return true;
      }
    }
  }

  @Test
  @DisplayName("stands by while another agent holds the lease, telling its listener who holds it on every poll,"
      + " even when the listener throws")
  void reportsStandingBy() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 3);
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
    String key = StoreLease.keyFor("", "db1");
    LinkedBlockingQueue<String> standby = new LinkedBlockingQueue<>();
    try (Archiver holder = Archiver.builder().source(BinlogSource.directory(binlogs)).sink(sink).serverId("db1")
            .cursorFile(tmp.resolve("a.cursor.json"))
            .lease(StoreLease.builder(sink, key).holderId("agent-A").build()).build();
        Archiver standbyAgent = Archiver.builder().source(BinlogSource.directory(binlogs)).sink(sink).serverId("db1")
            .cursorFile(tmp.resolve("b.cursor.json")).pollInterval(Duration.ofMillis(20))
            .lease(StoreLease.builder(sink, key).holderId("agent-B").build())
            .listener(new ArchiveListener() {
              @Override
              public void standingBy(String leaseKey, String holderId) {
                standby.add(leaseKey + " held by " + holderId);
                throw new IllegalStateException("a listener bug");
              }
            }).build()) {
      assertThat(holder.runOnce().succeeded()).isTrue();
      standbyAgent.start();
      assertThat(standby.poll(30, TimeUnit.SECONDS)).isEqualTo("db1/lease.json held by agent-A");
      assertThat(standby.poll(30, TimeUnit.SECONDS)).as("the agent polls on after the listener threw")
          .isEqualTo("db1/lease.json held by agent-A");
      assertThat(standbyAgent.cursor()).isEmpty();
    }
  }

  /** A sink whose artifact writers throw {@code error} on their first bytes; sidecars and the rest pass. */
  static Sink throwingOnUpload(Sink delegate, Error error) {
    return new ForwardingSink(delegate) {
      @Override
      public SinkWriter create(String key, Map<String, String> metadata) throws IOException {
        SinkWriter w = super.create(key, metadata);
        if (!key.contains("/binlog/") || key.endsWith(ArchiveLayout.SIDECAR_SUFFIX)) {
          return w;
        }
        return new SinkWriter() {
          @Override
          public void write(byte[] b, int off, int len) {
            throw error;
          }

          @Override
          public StoredObject commit() throws IOException {
            return w.commit();
          }

          @Override
          public void abort() {
            w.abort();
          }

          @Override
          protected boolean isCommitted() {
            return false;
          }
        };
      }
    };
  }

  /** Records the failures a listener hears. */
  static class FailureRecorder implements ArchiveListener {
    final List<String> filesFailed = new CopyOnWriteArrayList<>();
    final List<Throwable> fileErrors = new CopyOnWriteArrayList<>();
    final List<Throwable> runFailures = new CopyOnWriteArrayList<>();

    @Override
    public void fileFailed(BinlogFile file, Throwable error) {
      filesFailed.add(file.name());
      fileErrors.add(error);
    }

    @Override
    public void runFinished(RunSummary summary) {
      runFailures.add(summary.failure());
    }
  }

  /** An agent that would run again almost at once if it survived its first run. */
  private Archiver eagerAgent(Path binlogs, Sink sink, ArchiveListener listener) throws IOException {
    return Archiver.builder().source(BinlogSource.directory(binlogs)).sink(sink).serverId("db1")
        .cursorFile(tmp.resolve("cursor.json")).pollInterval(Duration.ofMillis(10)).retryPolicy(RetryPolicy.none())
        .listener(listener).build();
  }

  private static void assertStartedAgentEndsWith(Archiver archiver, Throwable error) {
    assertThat(archiver.start()).failsWithin(Duration.ofMinutes(1))
        .withThrowableOfType(ExecutionException.class).withCause(error);
  }

  @Test
  @DisplayName("ends when a sink throws an Error during an upload: its future fails with that error, the listener"
      + " heard it for the file and the run, and the cursor did not move")
  void errorFromSinkEndsTheAgent() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 3);
    NoClassDefFoundError error = new NoClassDefFoundError("simulated: a class the upload needs cannot be loaded");
    FailureRecorder heard = new FailureRecorder();
    try (Archiver archiver =
        eagerAgent(binlogs, throwingOnUpload(FileSystemSink.of(tmp.resolve("archive")), error), heard)) {
      assertStartedAgentEndsWith(archiver, error);
      assertThat(heard.filesFailed).containsExactly("mysql-bin.000001");
      assertThat(heard.fileErrors).containsExactly(error);
      assertThat(heard.runFailures).as("one run, and no run after it").containsExactly(error);
      assertThat(archiver.cursor()).isEmpty();
    }
  }

  @Test
  @DisplayName("ends when the listener throws an Error: its future fails with that error and the listener hears the"
      + " run end with it")
  void errorFromListenerEndsTheAgent() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 3);
    AssertionError error = new AssertionError("simulated: a listener's assertion");
    List<String> committed = new CopyOnWriteArrayList<>();
    FailureRecorder heard = new FailureRecorder() {
      @Override
      public void cursorCommitted(Cursor cursor) {
        committed.add(cursor.lastSyncedFile());
        throw error;
      }
    };
    try (Archiver archiver = eagerAgent(binlogs, FileSystemSink.of(tmp.resolve("archive")), heard)) {
      assertStartedAgentEndsWith(archiver, error);
      assertThat(heard.runFailures).as("one run, and no run after it").containsExactly(error);
      assertThat(committed).containsExactly("mysql-bin.000001");
      assertThat(archiver.cursor()).get().extracting(Cursor::lastSyncedFile).isEqualTo("mysql-bin.000001");
    }
  }

  @Test
  @DisplayName("completes its future normally when closed")
  void closedAgentCompletesNormally() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 2);
    CompletableFuture<Void> agent;
    try (Archiver archiver = Archiver.builder()
        .source(BinlogSource.directory(binlogs))
        .sink(FileSystemSink.of(tmp.resolve("archive")))
        .serverId("db1")
        .cursorFile(tmp.resolve("cursor.json"))
        .pollInterval(Duration.ofHours(1))
        .build()) {
      agent = archiver.start();
    }
    assertThat(agent).isCompleted().isNotCompletedExceptionally();
  }
}
