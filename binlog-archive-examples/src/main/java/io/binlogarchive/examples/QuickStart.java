package io.binlogarchive.examples;

import io.binlogarchive.Archiver;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.RunSummary;
import io.binlogarchive.codec.Transform;
import java.nio.file.Path;

/**
 * The README's hello world, compiled and run by CI: archive a binlog directory to a local
 * directory once. Arguments: {@code BINLOG_DIR ARCHIVE_DIR CURSOR_FILE}.
 */
public final class QuickStart {
  private QuickStart() {}

  /**
   * @param args binlog directory, archive directory, cursor file
   * @throws Exception on failure
   */
  public static void main(String[] args) throws Exception {
    // README:quickstart:begin
    try (Archiver archiver = Archiver.builder()
        .source(BinlogSource.directory(Path.of(args[0])))   // finds <basename>.index
        .sink(FileSystemSink.of(Path.of(args[1])))           // or S3Sink / GcsSink
        .serverId("db1")
        .compression(Transform.zstd(3))
        .cursorFile(Path.of(args[2]))
        .parallelism(2)
        .build()) {
      RunSummary run = archiver.runOnce();
      System.out.println(run.archivedCount() + " archived; cursor " + archiver.cursor().orElseThrow());
      if (!run.succeeded()) {
        throw new IllegalStateException("archive run failed", run.failure());
      }
    }
    // README:quickstart:end
  }
}
