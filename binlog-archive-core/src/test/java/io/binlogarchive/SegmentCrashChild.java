package io.binlogarchive;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.testing.TestArchive;
import java.nio.file.Path;

/**
 * The process {@link SegmentCrashTest} kills: it stores segments of one binlog, reported durable at
 * growing lengths, through a sink that stops before and after every commit (the durable changes) and
 * waits for the parent's acknowledgement, so the parent kills it at an exact step.
 *
 * <p>Arguments: binlog directory, archive directory, cursor file, binlog name, durable lengths
 * (comma-separated). Exit status 0 when every length is stored up to its last transaction boundary.
 */
public final class SegmentCrashChild {
  private SegmentCrashChild() {}

  public static void main(String[] args) throws Exception {
    Path binlogs = Path.of(args[0]);
    Sink sink = new CommitSteps(FileSystemSink.of(Path.of(args[1])));
    try (Archiver archiver = Archiver.builder().source(BinlogSource.directory(binlogs)).sink(sink).serverId("db")
            .compression(Transform.zstd(3)).retryPolicy(RetryPolicy.none()).cursorFile(Path.of(args[2])).build();
        SegmentArchiver live = SegmentArchiver.builder(archiver).directory(binlogs).maxBytes(16 * 1024).build()) {
      for (String length : args[4].split(",")) {
        live.durable(args[3], Long.parseLong(length));
        live.flush();
      }
    }
    CrashChild.step("exit 0");
    System.exit(0);
  }

  /** Steps around every commit, the sink's only durable changes. */
  static final class CommitSteps extends TestArchive.DelegatingSink {
    CommitSteps(Sink delegate) {
      super(delegate);
    }

    @Override
    public void beforeCommit(String key) {
      CrashChild.step("commit " + key);
    }

    @Override
    public void afterCommit(String key, StoredObject stored) {
      CrashChild.step("committed " + key);
    }
  }
}
