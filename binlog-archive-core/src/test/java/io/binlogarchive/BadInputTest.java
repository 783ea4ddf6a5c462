package io.binlogarchive;

import io.binlogarchive.binlog.BinlogScanner;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.internal.Json;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.CursorStore;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.Fixtures;
import io.binlogarchive.testing.TestArchive;
import static io.binlogarchive.ArchiverTest.names;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad input stops the archiver with an error that names the file and says what is wrong, and loses
 * nothing: files before the bad one are archived, the cursor does not pass it, and nothing
 * half-written is visible (no hidden temporary files either).
 */
@DisplayName("Bad input")
class BadInputTest {
  /** Binlog event types, as the binlog v4 format numbers them. */
  private static final int ROTATE_EVENT = 4;
  private static final int MARIADB_GTID_EVENT = 162;
  @TempDir Path tmp;
  Path binlogs;
  FileSystemSink sink;

  @BeforeEach
  void chain() throws IOException {
    binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 13);
    sink = FileSystemSink.of(tmp.resolve("archive"));
  }

  Archiver.Builder builder() {
    return Archiver.builder()
        .source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index")))
        .sink(sink)
        .serverId("db1")
        .cursorFile(tmp.resolve("cursor.json"))
        .retryPolicy(RetryPolicy.none());
  }

  /** Runs once with the given parallelism and returns the summary. */
  RunSummary run(int parallelism) throws IOException {
    try (Archiver a = builder().parallelism(parallelism).build()) {
      return a.runOnce();
    }
  }

  Cursor cursor() throws IOException {
    return Json.MAPPER.readValue(Files.readAllBytes(tmp.resolve("cursor.json")), Cursor.class);
  }

  /** Files 1..n archived, their artifacts decode to the binlogs, the cursor at n, nothing else stored. */
  void assertArchivedExactly(int n) throws IOException {
    List<String> expected = new ArrayList<>();
    for (String name : names(1, n)) {
      expected.add("db1/t0001/binlog/" + name + ".zst");
      expected.add("db1/t0001/binlog/" + name + ".json");
    }
    assertThat(TestArchive.allFiles(sink.root())).as("visible objects, and no hidden temporary files")
        .containsExactlyInAnyOrderElementsOf(expected);
    for (Sidecar s : TestArchive.sidecars(sink, "")) {
      assertThat(TestArchive.decode(sink, s)).isEqualTo(Files.readAllBytes(binlogs.resolve(s.file())));
    }
    assertThat(cursor().lastSyncedFile()).isEqualTo(names(n, n).get(0));
  }

  @ParameterizedTest(name = "parallelism {0}")
  @ValueSource(ints = {1, 3})
  @DisplayName("a file listed in the index but missing stops the run at that file, naming it")
  void missingFile(int parallelism) throws IOException {
    Files.delete(binlogs.resolve("mysql-bin.000004"));
    RunSummary s = run(parallelism);
    assertThat(s.failure()).isInstanceOf(NotFoundException.class)
        .hasMessageContaining("mysql-bin.000004")
        .hasMessageContaining("does not exist");
    assertThat(s.failedFile().name()).isEqualTo("mysql-bin.000004");
    assertThat(cursor().lastSyncedFile()).isEqualTo("mysql-bin.000003");
    if (parallelism == 1) {
      assertArchivedExactly(3);
    }
    assertThat(sink.stat("db1/t0001/binlog/mysql-bin.000004.zst")).isEmpty();
    // files archived after the failure while in flight stay complete, and a later run goes on from there
    Files.copy(Fixtures.chain().resolve("mysql-bin.000004"), binlogs.resolve("mysql-bin.000004"));
    assertThat(run(parallelism).failure()).isNull();
    assertArchivedExactly(12);
  }

  @Test
  @DisplayName("an index entry pointing outside the binlog directory is refused, naming the entry; nothing is read or written")
  void entryOutsideDirectory() throws IOException {
    TestArchive.writeIndex(binlogs, "mysql-bin.index", names(1, 4));
    assertThat(run(1).failure()).isNull();
    assertArchivedExactly(3);
    List<String> lines = new ArrayList<>(Files.readAllLines(binlogs.resolve("mysql-bin.index")));
    lines.add(3, "../../etc/passwd");
    lines.addAll(names(5, 13));
    Files.write(binlogs.resolve("mysql-bin.index"), lines);

    RunSummary s = run(2);
    assertThat(s.failure()).isInstanceOf(InvalidBinlogException.class)
        .hasMessageContaining("mysql-bin.index line 4")
        .hasMessageContaining("'../../etc/passwd'")
        .hasMessageContaining("points outside the binlog directory");
    assertArchivedExactly(3);
  }

  @Test
  @DisplayName("a corrupt cursor file stops the run, naming the file, and is left exactly as it was")
  void corruptCursor() throws IOException {
    TestArchive.writeIndex(binlogs, "mysql-bin.index", names(1, 4));
    assertThat(run(1).failure()).isNull();
    byte[] garbage = "{\"last_synced_file\": \"mysql-bin.0000".getBytes(StandardCharsets.UTF_8);
    Files.write(tmp.resolve("cursor.json"), garbage);
    TestArchive.writeIndex(binlogs, "mysql-bin.index", names(1, 13));
    Map<String, String> before = TestArchive.snapshot(sink, "");

    try (Archiver a = builder().build()) {
      RunSummary s = a.runOnce();
      assertThat(s.failure()).isInstanceOf(ArchiveException.class)
          .hasMessageContaining(tmp.resolve("cursor.json").toString())
          .hasMessageContaining("is corrupt")
          .hasMessageContaining("it was not changed");
      assertThat(s.results()).isEmpty();
      assertThatThrownBy(a::cursor).isInstanceOf(ArchiveException.class).hasMessageContaining("is corrupt");
    }
    assertThat(Files.readAllBytes(tmp.resolve("cursor.json"))).isEqualTo(garbage);
    assertThat(TestArchive.snapshot(sink, "")).isEqualTo(before);
  }

  @ParameterizedTest(name = "cursor file holding [{0}]")
  @ValueSource(strings = {"", "null", "[]", "{}", "{\"last_synced_file\":\"mysql-bin.000003\"}", "\u0000\u0001binary"})
  @DisplayName("every other unreadable cursor is reported as corrupt, never treated as no cursor")
  void otherCorruptCursors(String content) throws IOException {
    Files.writeString(tmp.resolve("cursor.json"), content);
    RunSummary s = run(1);
    assertThat(s.failure()).isInstanceOf(ArchiveException.class).hasMessageContaining("is corrupt");
    assertThat(Files.readString(tmp.resolve("cursor.json"))).isEqualTo(content);
    assertThat(TestArchive.allFiles(sink.root())).isEmpty();
  }

  @Test
  @DisplayName("a file that is not a binlog under a binlog name stops the run at that file, naming it")
  void notABinlog() throws IOException {
    Files.writeString(binlogs.resolve("mysql-bin.000004"), "this is not a binary log\n".repeat(1000));
    RunSummary s = run(1);
    assertThat(s.failure()).isInstanceOf(InvalidBinlogException.class)
        .hasMessageContaining("mysql-bin.000004")
        .hasMessageContaining("not a binary log");
    assertThat(s.failedFile().name()).isEqualTo("mysql-bin.000004");
    assertArchivedExactly(3);
  }

  @Test
  @DisplayName("a binlog cut in the middle of an event stops the run at that file, saying where it ends")
  void truncatedMidEvent() throws IOException {
    Path f = binlogs.resolve("mysql-bin.000004");
    long[] events = eventStarts(Files.readAllBytes(f));
    long cut = events[events.length / 2] + 7;
    truncate(f, cut);
    RunSummary s = run(1);
    assertThat(s.failure()).isInstanceOf(InvalidBinlogException.class)
        .hasMessageContaining("mysql-bin.000004")
        .hasMessageContaining("truncated")
        .hasMessageContaining("ends at offset " + cut + " inside").hasMessageContaining("event that starts at offset " + (cut - 7));
    assertArchivedExactly(3);
  }

  @Test
  @DisplayName("a binlog cut at an event boundary inside a transaction (no ROTATE or STOP at its end) stops the run at that file")
  void truncatedAtEventBoundary() throws IOException {
    Path f = binlogs.resolve("mysql-bin.000004");
    byte[] b = Files.readAllBytes(f);
    long[] events = eventStarts(b);
    long cut = -1;
    for (int i = events.length / 2; i < events.length - 1 && cut < 0; i++) {
      if ((b[(int) events[i] + 4] & 0xff) == MARIADB_GTID_EVENT) {
        cut = events[i + 1]; // after a transaction's GTID event, before its commit
      }
    }
    assertThat(cut).as("a GTID event in the second half of the fixture").isPositive();
    truncate(f, cut);
    RunSummary s = run(1);
    assertThat(s.failure()).isInstanceOf(InvalidBinlogException.class)
        .hasMessageContaining("mysql-bin.000004")
        .hasMessageContaining("ends at offset " + cut + " without a ROTATE or STOP event, inside a transaction");
    assertArchivedExactly(3);
  }

  @Test
  @DisplayName("a closed binlog cut after its last commit, flag clear (what MySQL's crash recovery leaves), is archived as it is; its sidecar says it was not closed")
  void recoveredByServer() throws IOException {
    Path f = binlogs.resolve("mysql-bin.000004");
    byte[] b = Files.readAllBytes(f);
    long[] events = eventStarts(b);
    long last = events[events.length - 1];
    assertThat(b[(int) last + 4] & 0xff).as("the fixture ends with a ROTATE").isEqualTo(ROTATE_EVENT);
    truncate(f, last); // MySQL truncates to the last complete transaction and clears the in-use flag
    RunSummary s = run(1);
    assertThat(s.failure()).isNull();
    assertArchivedExactly(13 - 1);
    Sidecar recovered = TestArchive.sidecars(sink, "").stream().filter(x -> x.file().equals("mysql-bin.000004"))
        .findFirst().orElseThrow();
    assertThat(recovered.binlog().closed()).isFalse();
    assertThat(recovered.binlog().inUse()).isFalse();
    assertThat(recovered.binlog().endPosition()).isEqualTo(last);
    assertThat(recovered.size()).isEqualTo(last);
    assertThat(recovered.binlog().gtids()).isEqualTo(BinlogScanner.scan(Fixtures.chain().resolve("mysql-bin.000004")).gtids());
  }

  @Test
  @DisplayName("a second archiver on the same cursor fails fast on open while the first holds it, and succeeds once it is closed")
  void secondArchiver() throws IOException {
    Archiver first = builder().build().open();
    try (Archiver refused = builder().build()) {
      assertThatThrownBy(refused::open)
          .isInstanceOf(ArchiveException.class)
          .hasMessageContaining(tmp.resolve("cursor.json").toString())
          .hasMessageContaining("locked by another archiver");
      assertThatThrownBy(refused::runOnce).as("a run opens it too")
          .isInstanceOf(ArchiveException.class)
          .hasMessageContaining("locked by another archiver");
      assertThat(first.runOnce().archivedCount()).as("the first still works").isEqualTo(12);
    } finally {
      first.close();
    }
    try (Archiver second = builder().build()) {
      RunSummary s = second.runOnce();
      assertThat(s.failure()).isNull();
      assertThat(s.results()).isEmpty();
    }
  }

  @Test
  @DisplayName("a second archiver in another process fails fast while the first holds the cursor")
  void secondArchiverInAnotherProcess() throws Exception {
    try (Archiver first = builder().build().open()) {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process p = new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
          LockProbe.class.getName(), tmp.resolve("cursor.json").toString())
          .redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor()).as(out).isEqualTo(3);
      assertThat(out).contains("locked by another archiver");
    }
  }

  /** Tries to open a cursor store; exits 0 if it could, 3 if it was locked. */
  public static final class LockProbe {
    public static void main(String[] args) throws IOException {
      try (CursorStore s = CursorStore.file(Path.of(args[0]))) {
        System.exit(0);
      } catch (ArchiveException e) {
        System.out.println(e.getMessage());
        System.exit(3);
      }
    }
  }

  static void truncate(Path f, long size) throws IOException {
    byte[] b = Files.readAllBytes(f);
    Files.write(f, Arrays.copyOf(b, (int) size));
  }

  /** @return the offset of every event in a binlog (after the 4-byte magic) */
  static long[] eventStarts(byte[] b) {
    List<Long> starts = new ArrayList<>();
    long pos = 4;
    while (pos + 19 <= b.length) {
      starts.add(pos);
      int i = (int) pos + 9;
      long size = (b[i] & 0xffL) | (b[i + 1] & 0xffL) << 8 | (b[i + 2] & 0xffL) << 16 | (b[i + 3] & 0xffL) << 24;
      pos += size;
    }
    assertThat(pos).isEqualTo(b.length);
    return starts.stream().mapToLong(Long::longValue).toArray();
  }
}
