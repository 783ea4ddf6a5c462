package io.binlogarchive.store;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.Archiver;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.RunSummary;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.testing.Fixtures;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JSON cursor file. Its crash safety rests on the commit order (read in the source): write
 * {@code cursor.json.tmp}, fsync it, rename it over {@code cursor.json} atomically, fsync the
 * directory; a crash leaves either the old or the new cursor whole, and at worst a stale
 * {@code .tmp}, which {@code load()} never reads and the next commit truncates.
 */
@DisplayName("FileCursorStore")
class FileCursorStoreTest {
  @TempDir Path tmp;

  static Cursor cursor(String file, long seq) {
    return new Cursor(file, seq, "ab".repeat(32), Instant.parse("2024-06-01T10:00:00Z"), "t0001",
        Instant.parse("2024-06-01T10:00:05Z"));
  }

  @Test
  @DisplayName("loads what it committed, and empty before the first commit")
  void roundTrip() throws IOException {
    try (CursorStore s = CursorStore.file(tmp.resolve("c/cursor.json"))) {
      assertThat(s.load()).isEmpty();
      s.commit(cursor("mysql-bin.000001", 1));
      s.commit(cursor("mysql-bin.000002", 2));
      assertThat(s.load()).contains(cursor("mysql-bin.000002", 2));
    }
    try (CursorStore s = CursorStore.file(tmp.resolve("c/cursor.json"))) {
      assertThat(s.load()).contains(cursor("mysql-bin.000002", 2));
    }
    assertThat(tmp.resolve("c/cursor.json.tmp")).doesNotExist();
  }

  @Test
  @DisplayName("is not confused by a cursor.json.tmp left by a crash: load ignores it and the next commit replaces it")
  void leftoverTmp() throws IOException {
    Path file = tmp.resolve("cursor.json");
    try (CursorStore s = CursorStore.file(file)) {
      s.commit(cursor("mysql-bin.000007", 7));
    }
    // a crash half-way through writing the next cursor, before the rename
    Files.writeString(tmp.resolve("cursor.json.tmp"), "{\"last_synced_file\":\"mysql-bin.0000");
    try (CursorStore s = CursorStore.file(file)) {
      assertThat(s.load()).contains(cursor("mysql-bin.000007", 7));
      s.commit(cursor("mysql-bin.000008", 8));
      assertThat(s.load()).contains(cursor("mysql-bin.000008", 8));
    }
    assertThat(tmp.resolve("cursor.json.tmp")).doesNotExist();
  }

  @Test
  @DisplayName("a leftover tmp longer than the new cursor does not leave trailing bytes in it")
  void longerLeftoverTmp() throws IOException {
    Path file = tmp.resolve("cursor.json");
    Files.writeString(tmp.resolve("cursor.json.tmp"), "x".repeat(10_000));
    try (CursorStore s = CursorStore.file(file)) {
      assertThat(s.load()).isEmpty();
      s.commit(cursor("mysql-bin.000001", 1));
    }
    try (CursorStore s = CursorStore.file(file)) {
      assertThat(s.load()).contains(cursor("mysql-bin.000001", 1));
    }
    assertThat(Files.size(file)).isLessThan(1000);
  }

  @Test
  @DisplayName("an archiver runs normally over a leftover tmp and an unreadable tmp is never mistaken for the cursor")
  void archiverWithLeftoverTmp() throws IOException {
    Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 3);
    Files.writeString(tmp.resolve("cursor.json.tmp"), "garbage");
    try (Archiver a = Archiver.builder()
        .source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index")))
        .sink(FileSystemSink.of(tmp.resolve("archive")))
        .serverId("db1")
        .cursorFile(tmp.resolve("cursor.json"))
        .retryPolicy(RetryPolicy.none())
        .build()) {
      RunSummary s = a.runOnce();
      assertThat(s.failure()).isNull();
      assertThat(a.cursor()).get().extracting(Cursor::lastSyncedFile).isEqualTo("mysql-bin.000002");
    }
  }

  @Test
  @DisplayName("holds an exclusive lock until closed, and refuses commits after close")
  void lock() throws IOException {
    CursorStore first = CursorStore.file(tmp.resolve("cursor.json"));
    assertThatThrownBy(() -> CursorStore.file(tmp.resolve("cursor.json")))
        .isInstanceOf(ArchiveException.class)
        .hasMessageContaining("locked by another archiver");
    first.close();
    first.close();
    assertThatThrownBy(() -> first.commit(cursor("mysql-bin.000001", 1))).isInstanceOf(IllegalStateException.class);
    try (CursorStore second = CursorStore.file(tmp.resolve("cursor.json"))) {
      second.commit(cursor("mysql-bin.000001", 1));
      assertThat(second.load()).isPresent();
    }
  }
}
