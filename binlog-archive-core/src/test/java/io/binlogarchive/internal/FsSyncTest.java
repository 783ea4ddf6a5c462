package io.binlogarchive.internal;

import io.binlogarchive.store.CursorStore;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.SinkWriter;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("Creating directories durably")
class FsSyncTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("fsyncs every directory it creates and the parent holding each, deepest first, each once")
  void syncsEachNewLevelAndItsParent() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root"));
    List<Path> synced = new ArrayList<>();

    List<Path> created = FsSync.createDirectories(root.resolve("db1/t0002/binlog"), synced::add);

    assertThat(created).containsExactly(root.resolve("db1"), root.resolve("db1/t0002"), root.resolve("db1/t0002/binlog"));
    assertThat(root.resolve("db1/t0002/binlog")).isDirectory();
    assertThat(synced).containsExactly(root.resolve("db1/t0002/binlog"), root.resolve("db1/t0002"),
        root.resolve("db1"), root);
  }

  @Test
  @DisplayName("creates and syncs only the missing levels below an existing one")
  void onlyMissingLevels() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root/db1/t0001/binlog"));
    Path kept = root.resolve("old");
    Files.writeString(kept, "x");
    List<Path> synced = new ArrayList<>();

    List<Path> created = FsSync.createDirectories(tmp.resolve("root/db1/t0002/binlog"), synced::add);

    assertThat(created).containsExactly(tmp.resolve("root/db1/t0002"), tmp.resolve("root/db1/t0002/binlog"));
    assertThat(synced).containsExactly(tmp.resolve("root/db1/t0002/binlog"), tmp.resolve("root/db1/t0002"),
        tmp.resolve("root/db1"));
    assertThat(kept).hasContent("x");
  }

  @Test
  @DisplayName("leaves an existing directory alone and syncs nothing")
  void existingUntouched() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("a/b"));
    List<Path> synced = new ArrayList<>();

    assertThat(FsSync.createDirectories(dir, synced::add)).isEmpty();
    assertThat(synced).isEmpty();
  }

  @Test
  @DisplayName("refuses a file where a directory belongs, naming it")
  void fileInTheWay() throws Exception {
    Files.writeString(tmp.resolve("a"), "not a directory");

    assertThatThrownBy(() -> FsSync.createDirectories(tmp.resolve("a/b"), d -> {}))
        .isInstanceOf(FileAlreadyExistsException.class).hasMessageContaining(tmp.resolve("a").toString());
    assertThat(tmp.resolve("a")).hasContent("not a directory");
  }

  @Test
  @DisplayName("really fsyncs by default, and a FileSystemSink and a cursor store create nested directories with it")
  void realSyncAndUsers() throws Exception {
    assertThat(FsSync.createDirectories(tmp.resolve("x/y/z"))).hasSize(3);
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive/deep"));
    try (SinkWriter w = sink.create("db1/t0003/binlog/mysql-bin.000001.zst", Map.of())) {
      w.write(new byte[] {1});
      w.commit();
    }
    assertThat(sink.stat("db1/t0003/binlog/mysql-bin.000001.zst")).isPresent();
    try (CursorStore c = CursorStore.file(tmp.resolve("cursors/db1/cursor.json"))) {
      assertThat(c.load()).isEmpty();
    }
    assertThat(tmp.resolve("cursors/db1")).isDirectory();
  }
}
