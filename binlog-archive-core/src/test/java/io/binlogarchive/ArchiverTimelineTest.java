package io.binlogarchive;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.MariaDbServer;
import io.binlogarchive.testing.MariaDbTest;
import io.binlogarchive.testing.TestArchive;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A server whose binlog sequence restarts (RESET MASTER) continues in a new archive timeline. */
@MariaDbTest
@DisplayName("Archiver timelines on a running MariaDB server")
class ArchiverTimelineTest {
  @TempDir Path tmp;

  Archiver archiver(MariaDbServer server, FileSystemSink sink) throws Exception {
    return Archiver.builder()
        .source(BinlogSource.indexFile(server.indexFile()))
        .sink(sink)
        .serverId("db")
        .cursorFile(tmp.resolve("cursor.json"))
        .retryPolicy(RetryPolicy.none())
        .build();
  }

  @Test
  @DisplayName("after RESET MASTER the next run archives into t0002 and leaves every t0001 object untouched")
  void resetMasterStartsNewTimeline() throws Exception {
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
    try (MariaDbServer server = MariaDbServer.start(tmp.resolve("mariadb"))) {
      for (int i = 0; i < 3; i++) {
        server.load("shop", 1000, i);
        server.flushLogs();
      }
      List<String> firstLogs = server.binaryLogs();
      byte[] oldFirst = Files.readAllBytes(server.dataDir().resolve("mysql-bin.000001"));
      try (Archiver a = archiver(server, sink)) {
        RunSummary s = a.runOnce();
        assertThat(s.failure()).isNull();
        assertThat(s.archivedCount()).isEqualTo(firstLogs.size() - 1);
        assertThat(a.cursor()).get().extracting(Cursor::timeline).isEqualTo("t0001");
      }
      Map<String, String> t1 = TestArchive.snapshot(sink, "db/t0001/");
      assertThat(t1).containsKey("db/t0001/binlog/mysql-bin.000001.zst");

      server.exec("RESET MASTER");
      server.load("shop", 500, 42);
      server.flushLogs();
      assertThat(server.binaryLogs()).containsExactly("mysql-bin.000001", "mysql-bin.000002");
      byte[] newFirst = Files.readAllBytes(server.dataDir().resolve("mysql-bin.000001"));
      assertThat(newFirst).as("the name repeats, the content does not").isNotEqualTo(oldFirst);

      try (Archiver a = archiver(server, sink)) {
        RunSummary s = a.runOnce();
        assertThat(s.failure()).isNull();
        assertThat(s.results()).singleElement().satisfies(r -> {
          assertThat(r.file().name()).isEqualTo("mysql-bin.000001");
          assertThat(r.status()).isEqualTo(FileResult.Status.ARCHIVED);
          assertThat(r.sidecar().timeline()).isEqualTo("t0002");
          assertThat(r.sidecar().artifact().key()).isEqualTo("db/t0002/binlog/mysql-bin.000001.zst");
        });
        assertThat(a.cursor()).get().satisfies(c -> {
          assertThat(c.timeline()).isEqualTo("t0002");
          assertThat(c.lastSyncedFile()).isEqualTo("mysql-bin.000001");
        });
        assertThat(a.runOnce().results()).as("a second run finds nothing new").isEmpty();
      }
      assertThat(TestArchive.snapshot(sink, "db/t0001/")).as("t0001 untouched").isEqualTo(t1);
      assertThat(TestArchive.decode(sink, "db/t0002/binlog/mysql-bin.000001.zst", Transform.zstd(3))).isEqualTo(newFirst);
      assertThat(TestArchive.decode(sink, "db/t0001/binlog/mysql-bin.000001.zst", Transform.zstd(3))).isEqualTo(oldFirst);
    }
  }

  @Test
  @DisplayName("after RESET MASTER and more rotations than the cursor had reached, the new files still go to t0002,"
      + " never into t0001 as if they continued it")
  void resetMasterOvertakingTheCursor() throws Exception {
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
    try (MariaDbServer server = MariaDbServer.start(tmp.resolve("mariadb"))) {
      server.load("shop", 300, 1);
      server.flushLogs();
      server.load("shop", 300, 2);
      server.flushLogs();
      assertThat(server.binaryLogs()).hasSize(3);
      try (Archiver a = archiver(server, sink)) {
        assertThat(a.runOnce().archivedCount()).isEqualTo(2);
        assertThat(a.cursor()).get().extracting(Cursor::lastSyncedFile).isEqualTo("mysql-bin.000002");
      }
      Map<String, String> t1 = TestArchive.snapshot(sink, "db/t0001/");

      // the sequence restarts and, before the archiver runs again, passes the cursor's sequence
      server.exec("RESET MASTER");
      for (int i = 0; i < 3; i++) {
        server.load("shop", 300, 10 + i);
        server.flushLogs();
      }
      List<String> logs = server.binaryLogs();
      assertThat(logs).containsExactly("mysql-bin.000001", "mysql-bin.000002", "mysql-bin.000003", "mysql-bin.000004");

      try (Archiver a = archiver(server, sink)) {
        RunSummary s = a.runOnce();
        assertThat(s.failure()).isNull();
        assertThat(s.results()).extracting(r -> r.file().name())
            .containsExactly("mysql-bin.000001", "mysql-bin.000002", "mysql-bin.000003");
        assertThat(s.results()).allSatisfy(r -> assertThat(r.sidecar().timeline()).isEqualTo("t0002"));
        assertThat(a.cursor()).get().extracting(Cursor::timeline).isEqualTo("t0002");
      }
      assertThat(TestArchive.snapshot(sink, "db/t0001/")).as("t0001 holds only the old server's files").isEqualTo(t1);
      for (String n : List.of("mysql-bin.000001", "mysql-bin.000002", "mysql-bin.000003")) {
        assertThat(TestArchive.decode(sink, "db/t0002/binlog/" + n + ".zst", Transform.zstd(3)))
            .isEqualTo(Files.readAllBytes(server.dataDir().resolve(n)));
      }
    }
  }
}
