package io.binlogarchive;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.CountingSink;
import io.binlogarchive.testing.MariaDbServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Makes many tiny binlogs on a real server and archives them; shared by the test and the benchmark. */
final class RotationStorm {
  private RotationStorm() {}

  record Result(int files, Duration flushTime, Duration archiveTime, CountingSink sink, List<String> committed,
      RunSummary summary) {
    double millisPerFile() {
      return archiveTime.toNanos() / 1e6 / files;
    }

    double storeCallsPerFileBeyondUpload() {
      return sink.callsBeyondUploads() / (double) files;
    }
  }

  static Result run(MariaDbServer db, Path work, int files) throws Exception {
    long t0 = System.nanoTime();
    try (Connection c = db.connection(); Statement st = c.createStatement()) {
      for (int i = 0; i < files; i++) {
        st.execute("INSERT INTO app.t (v) VALUES ('" + i + "')");
        st.execute("FLUSH BINARY LOGS");
      }
    }
    Duration flush = Duration.ofNanos(System.nanoTime() - t0);
    CountingSink sink = new CountingSink(FileSystemSink.of(work.resolve("archive")));
    List<String> committed = new ArrayList<>();
    try (Archiver a = Archiver.builder()
        .source(BinlogSource.directory(db.dataDir()))
        .sink(sink)
        .serverId("db1")
        .cursorFile(work.resolve("cursor.json"))
        .listener(new ArchiveListener() {
          @Override
          public void cursorCommitted(Cursor c) {
            committed.add(c.lastSyncedFile());
          }
        })
        .build()) {
      long t1 = System.nanoTime();
      RunSummary s = a.runOnce();
      return new Result(committed.size(), flush, Duration.ofNanos(System.nanoTime() - t1), sink, committed, s);
    }
  }
}
