package io.binlogarchive.testing;

import io.binlogarchive.Archiver;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.store.spi.ForwardingSink;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Helpers shared by the archiver tests: decoding artifacts, snapshots of a sink, stock tools. */
public final class TestArchive {
  private TestArchive() {}

  /** @return the transform that decodes artifacts with this codec id */
  /**
   * Archives the first {@code count} files of the fixture chain (all but the last, still active)
   * with zstd into a {@link FileSystemSink} at {@code tmp/archive}, as server {@code db1}.
   */
  public static FileSystemSink archiveChain(Path tmp, int count) throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), count);
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
    try (Archiver a = Archiver.builder()
        .source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index")))
        .sink(sink).serverId("db1").cursorFile(tmp.resolve("cursor.json")).retryPolicy(RetryPolicy.none())
        .compression(Transform.zstd(3))
        .build()) {
      assertThat(a.runOnce().failure()).isNull();
    }
    return sink;
  }

  public static Transform codec(String id) {
    return switch (id) {
      case "zstd" -> Transform.zstd(3);
      case "gzip" -> Transform.gzip(6);
      case "none" -> Transform.none();
      default -> throw new IllegalArgumentException(id);
    };
  }

  /** Decodes the artifact a sidecar describes, with the codec it names. */
  public static byte[] decode(Sink sink, Sidecar s) throws IOException {
    return decode(sink, s.artifact().key(), codec(s.artifact().codec()));
  }

  public static byte[] decode(Sink sink, String key, Transform codec) throws IOException {
    try (InputStream in = codec.unwrap(sink.open(key))) {
      return in.readAllBytes();
    }
  }

  public static String sha256(byte[] b) {
    return StoreTests.sha256(b);
  }

  public static String sha256(Path p) throws IOException {
    return sha256(Files.readAllBytes(p));
  }

  /** @return every visible object under {@code prefix} with the SHA-256 of its bytes */
  public static Map<String, String> snapshot(Sink sink, String prefix) throws IOException {
    Map<String, String> out = new TreeMap<>();
    for (StoredObject o : sink.list(prefix)) {
      try (InputStream in = sink.open(o.key())) {
        out.put(o.key(), sha256(in.readAllBytes()));
      }
    }
    return out;
  }

  /** @return every regular file below {@code root}, hidden ones included, as relative paths */
  public static List<String> allFiles(Path root) throws IOException {
    if (!Files.exists(root)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted().toList();
    }
  }

  /** @return the sidecars under {@code prefix}, parsed, in key order */
  public static List<Sidecar> sidecars(Sink sink, String prefix) throws IOException {
    List<Sidecar> out = new ArrayList<>();
    for (StoredObject o : sink.list(prefix)) {
      if (o.key().endsWith(".json")) {
        try (InputStream in = sink.open(o.key())) {
          out.add(Sidecar.parse(in.readAllBytes(), o.key()));
        }
      }
    }
    return out;
  }

  /**
   * Runs a stock command-line tool with {@code input} on stdin and returns its stdout. Fails (never
   * skips) if the tool is missing or exits non-zero.
   */
  public static byte[] runTool(Path input, Path work, String... cmd) throws IOException, InterruptedException {
    Path out = Files.createTempFile(work, "tool", ".out");
    Path err = Files.createTempFile(work, "tool", ".err");
    Process p = new ProcessBuilder(cmd).redirectInput(input.toFile()).redirectOutput(out.toFile())
        .redirectError(err.toFile()).start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("%s finished", String.join(" ", cmd)).isTrue();
    assertThat(p.exitValue()).as("%s exit status; stderr: %s", String.join(" ", cmd), Files.readString(err))
        .isZero();
    byte[] b = Files.readAllBytes(out);
    Files.delete(out);
    Files.delete(err);
    return b;
  }

  /** Copies one object out of a filesystem sink to a plain file, for the stock tools. */
  public static Path export(FileSystemSink sink, String key, Path dir) throws IOException {
    Path target = dir.resolve(key.replace('/', '_'));
    try (InputStream in = sink.open(key)) {
      Files.copy(in, target);
    }
    return target;
  }

  /** Writes an index naming {@code names} (relative entries) in {@code dir}. */
  public static Path writeIndex(Path dir, String indexName, List<String> names) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (String n : names) {
      sb.append("./").append(n).append('\n');
    }
    return Files.writeString(dir.resolve(indexName), sb);
  }

  /** A sink that passes everything to another; tests override the calls they intercept. */
  public static class DelegatingSink extends ForwardingSink {
    public DelegatingSink(Sink delegate) {
      super(delegate);
    }

    @Override
    public SinkWriter create(String key, Map<String, String> metadata) throws IOException {
      return new DelegatingWriter(key, delegate.create(key, metadata));
    }

    /** Called before each write reaches the delegate. */
    public void beforeWrite(String key, int len) throws IOException {}

    /** Called before a commit reaches the delegate. */
    public void beforeCommit(String key) throws IOException {}

    /** Called after a commit succeeded. */
    public void afterCommit(String key, StoredObject stored) throws IOException {}

    final class DelegatingWriter extends SinkWriter {
      private final String key;
      private final SinkWriter w;
      private boolean committed;

      DelegatingWriter(String key, SinkWriter w) {
        this.key = key;
        this.w = w;
      }

      @Override
      public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        beforeWrite(key, len);
        w.write(b, off, len);
      }

      @Override
      public StoredObject commit() throws IOException {
        beforeCommit(key);
        StoredObject s = w.commit();
        committed = true;
        afterCommit(key, s);
        return s;
      }

      @Override
      public void abort() {
        w.abort();
      }

      @Override
      protected boolean isCommitted() {
        return committed;
      }
    }
  }
}
