package io.binlogarchive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The archive pipeline over the real MariaDB 10.11 binlog chain from the shared fixtures. */
@DisplayName("Archiver")
class ArchiverTest {
  @TempDir Path tmp;

  Archiver.Builder builder(Path binlogs, Sink sink) {
    return Archiver.builder()
        .source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index")))
        .sink(sink)
        .serverId("db1")
        .prefix("prod")
        .cursorFile(tmp.resolve("cursor.json"))
        .retryPolicy(RetryPolicy.none());
  }

  static byte[] restore(Sink sink, Sidecar s, List<Transform> transforms) throws IOException {
    InputStream in = sink.open(s.artifact().key());
    for (int i = transforms.size() - 1; i >= 0; i--) {
      in = transforms.get(i).unwrap(in);
    }
    try (InputStream d = in) {
      return d.readAllBytes();
    }
  }

  @Test
  @DisplayName("archives every closed binlog but the active one, in order, and moves the cursor to the last")
  void archivesChain() throws Exception {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
    try (Archiver archiver = builder(binlogs, sink).parallelism(3).build()) {
      RunSummary s = archiver.runOnce();
      assertThat(s.failure()).isNull();
      assertThat(s.results()).extracting(r -> r.file().name())
          .containsExactly(names(1, 12).toArray(String[]::new));
      assertThat(s.results()).allMatch(r -> r.status() == FileResult.Status.ARCHIVED);
      assertThat(archiver.cursor()).get().extracting(Cursor::lastSyncedFile).isEqualTo("mysql-bin.000012");
      for (FileResult r : s.results()) {
        byte[] original = Files.readAllBytes(binlogs.resolve(r.file().name()));
        Sidecar sc = r.sidecar();
        assertThat(sc.artifact().key()).isEqualTo("prod/db1/t0001/binlog/" + r.file().name() + ".zst");
        assertThat(sc.sha256()).isEqualTo(SinkCompatibilityKit.sha256(original));
        assertThat(sc.size()).isEqualTo(original.length);
        assertThat(restore(sink, sc, List.of(Transform.zstd(3)))).isEqualTo(original);
        assertThat(sink.stat("prod/db1/t0001/binlog/" + r.file().name() + ".json")).isPresent();
      }
      assertThat(sink.stat("prod/db1/t0001/binlog/mysql-bin.000013.zst")).isEmpty();
    }
  }

  static List<String> names(int from, int to) {
    List<String> n = new ArrayList<>();
    for (int i = from; i <= to; i++) {
      n.add(String.format("mysql-bin.%06d", i));
    }
    return n;
  }
}
