package io.binlogarchive;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.CursorStore;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.testing.TestArchive;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The process {@link CrashSafetyTest} kills. It archives a binlog chain twice into one
 * {@link FileSystemSink} (server {@code db-zstd} with zstd, then {@code db-gzip} with gzip), with
 * parallelism 2 and a 64 KiB buffer, and stops at every step that changes durable state: each write
 * to a sink writer, before and after each commit (artifacts and sidecars), before and after each
 * cursor commit. At each step it prints one line and waits for the parent to acknowledge it with one
 * byte on stdin; the parent kills it (SIGKILL) instead of answering when it reaches its chosen line.
 * So the kill point is exact: the thread that printed is parked right after that step, and every
 * other archive thread is parked at (or before) its next step.
 *
 * <p>Arguments: binlog directory (with {@code mysql-bin.index}), archive directory, cursor directory.
 * Exit status 0 when both archives are complete, 2 when a run reported a failure.
 */
public final class CrashChild {
  private static final PrintStream OUT = new PrintStream(System.out, false, StandardCharsets.UTF_8);
  private static final InputStream ACK = System.in;

  private CrashChild() {}

  /** Prints one step and waits for the parent's acknowledgement; exits at once if the parent is gone. */
  static synchronized void step(String line) {
    OUT.println(line);
    OUT.flush();
    try {
      if (ACK.read() < 0) {
        Runtime.getRuntime().halt(3);
      }
    } catch (IOException e) {
      Runtime.getRuntime().halt(3);
    }
  }

  public static void main(String[] args) throws Exception {
    Path binlogs = Path.of(args[0]);
    Path archive = Path.of(args[1]);
    Path cursors = Path.of(args[2]);
    Sink sink = new StepSink(FileSystemSink.of(archive));
    int status = 0;
    for (String codec : new String[] {"zstd", "gzip"}) {
      Transform t = codec.equals("zstd") ? Transform.zstd(3) : Transform.gzip(1);
      try (Archiver archiver = Archiver.builder()
          .source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index")))
          .sink(sink)
          .serverId("db-" + codec)
          .compression(t)
          .parallelism(2)
          .bufferSize(64 * 1024)
          .retryPolicy(RetryPolicy.none())
          .cursorStore(new StepCursorStore("db-" + codec, CursorStore.file(cursors.resolve(codec + ".json"))))
          .build()) {
        RunSummary s = archiver.runOnce();
        if (!s.succeeded()) {
          System.err.println("run of db-" + codec + " failed at " + s.failedFile() + ": " + s.failure());
          s.failure().printStackTrace();
          status = 2;
        }
      }
    }
    step("exit " + status);
    System.exit(status);
  }

  /** Steps around every durable change the archiver makes in the sink. */
  static final class StepSink extends TestArchive.DelegatingSink {
    StepSink(Sink delegate) {
      super(delegate);
    }

    @Override
    public void beforeWrite(String key, int len) {
      step("write " + key + " " + len);
    }

    @Override
    public void beforeCommit(String key) {
      step("commit " + key);
    }

    @Override
    public void afterCommit(String key, StoredObject stored) {
      step("committed " + key);
    }
  }

  /** Steps before and after every cursor commit. */
  static final class StepCursorStore implements CursorStore {
    private final String server;
    private final CursorStore delegate;

    StepCursorStore(String server, CursorStore delegate) {
      this.server = server;
      this.delegate = delegate;
    }

    @Override
    public Optional<Cursor> load() throws IOException {
      return delegate.load();
    }

    @Override
    public void commit(Cursor cursor) throws IOException {
      step("cursor-commit " + server + " " + cursor.lastSyncedFile());
      delegate.commit(cursor);
      step("cursor-committed " + server + " " + cursor.lastSyncedFile());
    }

    @Override
    public void close() throws IOException {
      delegate.close();
    }
  }
}
