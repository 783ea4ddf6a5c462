package io.binlogarchive;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.MariaDbServer;
import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.testing.TestArchive;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Archives a real, running MariaDB 10.11 server's binlogs (one throwaway {@code mariadbd} for the
 * class) and checks the artifacts with the stock {@code zstd} and {@code gzip} tools. Fails, never
 * skips, when the server or the tools are missing.
 */
@MariaDbTest
@DisplayName("Archiver against a running MariaDB server")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ArchiverRealServerTest {
  @TempDir static Path serverDir;
  MariaDbServer server;

  @BeforeAll
  void startServer() throws Exception {
    server = MariaDbServer.start(serverDir.resolve("mariadb"));
    // load, rotating several times by size (max_binlog_size=1M) and by FLUSH BINARY LOGS
    for (int i = 0; i < 4; i++) {
      server.load("shop", 3000, i);
      server.flushLogs();
    }
  }

  @AfterAll
  void stopServer() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  BinlogSource source(String kind) throws Exception {
    return switch (kind) {
      case "index" -> BinlogSource.indexFile(server.indexFile());
      case "jdbc" -> BinlogSource.showBinaryLogs(server.dataSource(), server.dataDir());
      default -> throw new IllegalArgumentException(kind);
    };
  }

  @ParameterizedTest(name = "{0} source, {1}")
  @CsvSource({"index, zstd", "index, gzip", "jdbc, zstd", "jdbc, gzip"})
  @DisplayName("archives every closed binlog, never the active one, and the stock tools decompress each to the source bytes")
  void archivesClosedBinlogs(String sourceKind, String codec, @TempDir Path work) throws Exception {
    FileSystemSink sink = FileSystemSink.of(work.resolve("archive"));
    String ext = codec.equals("zstd") ? ".zst" : ".gz";
    Function<String, String> artifact = n -> "db/t0001/binlog/" + n + ext;
    try (Archiver archiver = Archiver.builder()
        .source(source(sourceKind))
        .sink(sink)
        .serverId("db")
        .compression(TestArchive.codec(codec))
        .cursorFile(work.resolve("cursor.json"))
        .retryPolicy(RetryPolicy.none())
        .parallelism(2)
        .build()) {
      List<String> logs = server.binaryLogs();
      assertThat(logs).as("rotated several times").hasSizeGreaterThanOrEqualTo(5);
      List<String> closed = logs.subList(0, logs.size() - 1);
      String active = logs.get(logs.size() - 1);

      RunSummary s = archiver.runOnce();
      assertThat(s.failure()).isNull();
      assertThat(s.results()).extracting(r -> r.file().name()).containsExactlyElementsOf(closed);
      assertThat(s.results()).extracting(FileResult::status).containsOnly(FileResult.Status.ARCHIVED);
      assertThat(sink.stat(artifact.apply(active))).as("the active file %s", active).isEmpty();
      assertThat(archiver.cursor()).get().extracting(Cursor::lastSyncedFile).isEqualTo(closed.get(closed.size() - 1));
      for (String n : closed) {
        byte[] original = Files.readAllBytes(server.dataDir().resolve(n));
        Path exported = TestArchive.export(sink, artifact.apply(n), work);
        byte[] decoded = codec.equals("zstd")
            ? TestArchive.runTool(exported, work, "zstd", "-d", "-c")
            : TestArchive.runTool(exported, work, "gzip", "-d", "-c");
        assertThat(decoded).as("%s %s decompressed by the stock tool", n, codec).isEqualTo(original);
        if (codec.equals("zstd")) {
          TestArchive.runTool(exported, work, "zstd", "-t"); // the frame's content checksum verifies
        }
      }

      // the server moves on: the file that was active is closed now, and is archived by the next run
      server.load("shop", 500, 99);
      server.flushLogs();
      List<String> later = server.binaryLogs();
      RunSummary next = archiver.runOnce();
      assertThat(next.failure()).isNull();
      List<String> expected = new ArrayList<>(later.subList(closed.size(), later.size() - 1));
      assertThat(expected).contains(active);
      assertThat(next.results()).extracting(r -> r.file().name()).containsExactlyElementsOf(expected);
      assertThat(sink.stat(artifact.apply(later.get(later.size() - 1)))).isEmpty();
      Map<String, String> archived = TestArchive.snapshot(sink, "");
      assertThat(archived).hasSize(2 * (later.size() - 1));
      for (Sidecar sc : TestArchive.sidecars(sink, "")) {
        assertThat(sc.binlog().closed()).isTrue();
        assertThat(sc.binlog().flavor()).isEqualTo("mariadb");
        assertThat(sc.sha256()).isEqualTo(TestArchive.sha256(server.dataDir().resolve(sc.file())));
      }
    }
  }
}
