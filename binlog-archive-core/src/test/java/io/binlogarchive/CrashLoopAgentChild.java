package io.binlogarchive;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.SinkWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * One life of an agent in a crash loop, for {@link PartFileCrashLoopTest}: starts as an agent does
 * (an {@link Archiver} run over a {@link FileSystemSink}, which sweeps what killed uploads left in
 * its archive; the binlog directory holds only the active file, so nothing is archived), then
 * starts an upload of the next artifact, writes to it, prints {@code writing} and waits to be
 * killed. Args: archive directory, binlog directory (with {@code mysql-bin.index}), cursor file.
 */
public final class CrashLoopAgentChild {
  static final String KEY = "loop/db1/t0001/binlog/mysql-bin.000001.zst";

  private CrashLoopAgentChild() {}

  public static void main(String[] args) throws Exception {
    FileSystemSink sink = FileSystemSink.of(Path.of(args[0]));
    try (Archiver archiver = Archiver.builder()
        .source(BinlogSource.indexFile(Path.of(args[1]).resolve("mysql-bin.index")))
        .sink(sink)
        .prefix("loop")
        .serverId("db1")
        .cursorFile(Path.of(args[2]))
        .retryPolicy(RetryPolicy.none())
        .build()) {
      RunSummary s = archiver.runOnce();
      if (!s.succeeded()) {
        throw new IllegalStateException("the agent's run failed", s.failure());
      }
    }
    SinkWriter w = sink.create(KEY, Map.of());
    w.write(new byte[64 * 1024]);
    System.out.write("writing\n".getBytes(StandardCharsets.UTF_8));
    System.out.flush();
    System.in.read();
    w.abort();
  }
}
