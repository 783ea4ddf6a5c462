package io.binlogarchive.restore;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Sidecar;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.TestArchive;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The free-space check of {@link ArchiveReader#fetch}, with the directory's usable space injected. */
@DisplayName("Fetching checks the directory's free space first")
class FetchFreeSpaceTest {
  @TempDir Path tmp;
  FileSystemSink sink;
  RestorePlan plan;

  @BeforeEach
  void archiveThreeFiles() throws Exception {
    sink = TestArchive.archiveChain(tmp, 4);
    plan = reader(dir -> Long.MAX_VALUE).planFrom("mysql-bin.000001", 4, RestoreTarget.latest());
    assertThat(plan.files()).hasSize(3);
  }

  ArchiveReader reader(ArchiveReader.UsableSpace space) {
    return ArchiveReader.builder().sink(sink).serverId("db1").retryPolicy(RetryPolicy.none()).usableSpace(space)
        .build();
  }

  static long need(RestorePlan plan) {
    return plan.files().stream().mapToLong(Sidecar::size).sum();
  }

  static long entries(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.count();
    }
  }

  @Test
  @DisplayName("one byte short, it refuses naming the directory, the bytes needed and the bytes available, and writes nothing")
  void refusesWhenShort() throws IOException {
    Path dir = tmp.resolve("restore");
    long need = need(plan);
    assertThatThrownBy(() -> reader(d -> need - 1).fetch(plan, dir))
        .isExactlyInstanceOf(ArchiveException.class)
        .hasMessageContaining("not enough free space in " + dir)
        .hasMessageContaining("needs " + need + " bytes for 3 binlog(s)")
        .hasMessageContaining("only " + (need - 1) + " bytes are usable");
    assertThat(entries(dir)).isZero();
  }

  @Test
  @DisplayName("files already fetched and verified do not count: a complete directory needs no free space")
  void keptFilesNeedNoSpace() throws IOException {
    Path dir = tmp.resolve("restore");
    long need = need(plan);
    assertThat(reader(d -> need).fetch(plan, dir).fetched()).isEqualTo(3);
    FetchResult again = reader(d -> 0).fetch(plan, dir);
    assertThat(again.fetched()).isZero();
    assertThat(again.reused()).isEqualTo(3);
  }
}
