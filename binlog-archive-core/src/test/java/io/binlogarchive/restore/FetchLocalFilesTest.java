package io.binlogarchive.restore;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Sidecar;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.spi.ForwardingSink;
import io.binlogarchive.testing.TestArchive;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a fetch (and verify's state file) does to the local directory it writes: files planted by
 * another local user are never followed, and no worker outlives the call.
 */
@DisplayName("Fetch writes its directory safely")
class FetchLocalFilesTest {
  static final String VICTIM_TEXT = "not yours to overwrite\n";

  @TempDir Path tmp;
  FileSystemSink sink;
  RestorePlan plan;
  Path victim;

  @BeforeEach
  void archiveThreeFiles() throws Exception {
    sink = TestArchive.archiveChain(tmp, 4);
    plan = reader(sink, 2).planFrom("mysql-bin.000001", 4, RestoreTarget.latest());
    assertThat(plan.files()).hasSize(3);
    victim = Files.writeString(tmp.resolve("victim.txt"), VICTIM_TEXT);
  }

  static ArchiveReader reader(Sink sink, int parallelism) {
    return ArchiveReader.builder().sink(sink).serverId("db1").retryPolicy(RetryPolicy.none())
        .parallelism(parallelism).build();
  }

  static List<String> listing(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  @DisplayName("a symbolic link planted at the old predictable temporary name is not followed: the victim is unchanged")
  void plantedTempLinkIsNotFollowed() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("restore"));
    Path planted = Files.createSymbolicLink(dir.resolve(".mysql-bin.000002.part"), victim);
    FetchResult r = reader(sink, 2).fetch(plan, dir);

    assertThat(r.fetched()).isEqualTo(3);
    assertThat(Files.readString(victim)).isEqualTo(VICTIM_TEXT);
    assertThat(Files.isSymbolicLink(planted)).isTrue();
    Path fetched = dir.resolve("mysql-bin.000002");
    assertThat(Files.isSymbolicLink(fetched)).isFalse();
    assertThat(Files.size(fetched)).isEqualTo(plan.files().get(1).size());
    assertThat(listing(dir)).containsExactly(".mysql-bin.000002.part", "mysql-bin.000001", "mysql-bin.000002",
        "mysql-bin.000003");
  }

  @Test
  @DisplayName("a symbolic link planted under a final name fails the fetch naming it, before anything is written")
  void plantedFinalLinkFails() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("restore"));
    Path planted = Files.createSymbolicLink(dir.resolve("mysql-bin.000003"), victim);
    assertRefused(() -> reader(sink, 2).fetch(plan, dir), planted);
    assertThat(listing(dir)).containsExactly("mysql-bin.000003");
  }

  @Test
  @DisplayName("a link planted under a final name while the fetch runs is refused at the rename, not replaced")
  void linkPlantedDuringFetchIsNotReplaced() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("restore"));
    Path planted = dir.resolve("mysql-bin.000001");
    Sink planting = new ForwardingSink(sink) {
      @Override
      public InputStream open(String key, long offset) throws IOException {
        if (key.equals(plan.files().get(0).artifact().key()) && !Files.exists(planted, LinkOption.NOFOLLOW_LINKS)) {
          Files.createSymbolicLink(planted, victim); // after the up-front check, before the rename
        }
        return super.open(key, offset);
      }
    };

    assertRefused(() -> reader(planting, 1).fetch(plan, dir), planted);
    assertThat(listing(dir)).containsExactly("mysql-bin.000001"); // the link; no temporary file left
  }

  @Test
  @DisplayName("temporary files a killed fetch left are deleted; one still being written, and planted links, are not")
  void leftoversOfAKilledFetchAreSwept() throws IOException {
    Path dir = Files.createDirectory(tmp.resolve("restore"));
    Path leftover = Files.writeString(dir.resolve(".mysql-bin.000001.0123456789abcdef.part"), "partial");
    Path link = Files.createSymbolicLink(dir.resolve(".mysql-bin.000002.fedcba9876543210.part"), victim);
    Path other = Files.writeString(dir.resolve(".notes.0123456789abcdef.part"), "not ours");
    LocalFiles.Temp writing = LocalFiles.createTemp(dir, "mysql-bin.000003");
    try (var ch = writing.channel()) {
      reader(sink, 2).fetch(plan, dir);
      assertThat(Files.exists(writing.path())).isTrue();
    }
    assertThat(Files.exists(leftover)).isFalse();
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readString(victim)).isEqualTo(VICTIM_TEXT);
    assertThat(Files.readString(other)).isEqualTo("not ours");
  }

  @Test
  @DisplayName("a missing target directory is created readable by its owner only (rwx------)")
  void newDirectoryIsOwnerOnly() throws IOException {
    assumeTrue(tmp.getFileSystem().supportedFileAttributeViews().contains("posix"));
    Path parent = tmp.resolve("new");
    Path dir = parent.resolve("restore");

    reader(sink, 2).fetch(plan, dir);

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(parent))).isEqualTo("rwx------");
    assertThat(listing(dir)).containsExactly("mysql-bin.000001", "mysql-bin.000002", "mysql-bin.000003");
  }

  @Test
  @DisplayName("verify's state file: a link at the old temporary name is not followed, a link at its name is refused")
  void verifyStateFileIsNotFollowed() throws IOException {
    Path stateDir = Files.createDirectory(tmp.resolve("state"));
    Path state = stateDir.resolve("verify.json");
    Path plantedTemp = stateDir.resolve(".verify.json.tmp");
    Files.createSymbolicLink(plantedTemp, victim);

    VerifyReport report = reader(sink, 2).verify(VerifyOptions.defaults().withStateFile(state));

    assertThat(report.filesChecked()).isEqualTo(3);
    assertThat(Files.readString(victim)).isEqualTo(VICTIM_TEXT);
    assertThat(Files.isRegularFile(state, LinkOption.NOFOLLOW_LINKS)).isTrue();

    Files.delete(state);
    Files.createSymbolicLink(state, victim);
    assertRefused(() -> reader(sink, 2).verify(VerifyOptions.defaults().withStateFile(state)), state);
  }

  /**
   * File 1's artifact is tampered with; file 2 is in flight when the fetch sees that: the store
   * holds file 2's download back (ignoring the interrupt, like a socket read) until the fetch has
   * noticed the failure and either left (the old code: file 2 would then be renamed after fetch
   * threw) or waits for its workers (the fix). Then the listing must not change any more.
   */
  @Test
  @DisplayName("after a fetch failed, every worker has ended and nothing more is renamed into the directory")
  void failedFetchLeavesNoWorkerBehind() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("restore"));
    Sidecar bad = plan.files().get(0);
    Path artifact = sink.root().resolve(bad.artifact().key());
    byte[] bytes = Files.readAllBytes(artifact);
    for (int i = bytes.length / 2; i < bytes.length / 2 + 64 && i < bytes.length; i++) {
      bytes[i] ^= 0x5a;
    }
    Files.write(artifact, bytes);
    String heldKey = plan.files().get(1).artifact().key();
    Thread caller = Thread.currentThread();
    CountDownLatch heldInterrupted = new CountDownLatch(1);
    Sink holding = new ForwardingSink(sink) {
      @Override
      public InputStream open(String key, long offset) throws IOException {
        if (key.equals(heldKey)) {
          try {
            new CountDownLatch(1).await(); // until the fetch stops its workers
          } catch (InterruptedException e) {
            heldInterrupted.countDown(); // swallowed: the worker goes on as if nothing happened
          }
          while (inCall(caller, "fetch") && !joiningWorkers(caller)) {
            Thread.onSpinWait();
          }
        }
        return super.open(key, offset);
      }
    };

    Throwable thrown = catchThrowable(() -> reader(holding, 2).fetch(plan, dir));
    List<String> atThrow = listing(dir);
    boolean workersAlive = joinWorkers("binlog-archive-fetch-");

    assertThat(thrown).isInstanceOf(IntegrityException.class).hasMessageContaining(bad.artifact().key());
    assertThat(heldInterrupted.getCount()).isZero(); // file 2 was in flight when the failure was seen
    assertThat(workersAlive).isFalse();
    assertThat(listing(dir)).isEqualTo(atThrow).isEmpty();
  }

  /** The call fails naming the planted link, which is still there, and the victim is unchanged. */
  void assertRefused(ThrowingCallable call, Path planted) throws IOException {
    assertThatThrownBy(call)
        .isInstanceOf(ArchiveException.class)
        .hasMessageContaining(planted.toString())
        .hasMessageContaining("symbolic link");
    assertThat(Files.readString(victim)).isEqualTo(VICTIM_TEXT);
    assertThat(Files.isSymbolicLink(planted)).isTrue();
  }

  /**
   * The sidecar reads of a verify's survey: the first fails (a store error), the second is held
   * (ignoring the interrupt) until the survey has either returned (the old code) or waits for its
   * workers (the fix).
   */
  @Test
  @DisplayName("after a verify's survey failed, none of its sidecar readers is still running")
  void failedSurveyLeavesNoWorkerBehind() throws Exception {
    String failing = plan.files().get(0).artifact().key().replaceAll("\\.zst$", ".json");
    String held = plan.files().get(1).artifact().key().replaceAll("\\.zst$", ".json");
    Thread caller = Thread.currentThread();
    CountDownLatch heldInterrupted = new CountDownLatch(1);
    Sink holding = new ForwardingSink(sink) {
      @Override
      public InputStream open(String key, long offset) throws IOException {
        if (key.equals(failing)) {
          throw new IOException("store unavailable for " + key);
        }
        if (key.equals(held)) {
          try {
            new CountDownLatch(1).await(); // until the survey stops its workers
          } catch (InterruptedException e) {
            heldInterrupted.countDown(); // swallowed
          }
          while (inCall(caller, "survey") && !joiningWorkers(caller)) {
            Thread.onSpinWait();
          }
        }
        return super.open(key, offset);
      }
    };

    Throwable thrown = catchThrowable(() -> reader(holding, 2).verify(VerifyOptions.defaults()));
    boolean workersAlive = joinWorkers("binlog-archive-read-");

    assertThat(thrown).isInstanceOf(IOException.class).hasMessageContaining("store unavailable for " + failing);
    assertThat(heldInterrupted.getCount()).isZero();
    assertThat(workersAlive).isFalse();
  }

  /** @return whether a thread whose name starts with {@code prefix} was alive; then waits for them all */
  static boolean joinWorkers(String prefix) throws InterruptedException {
    List<Thread> workers = Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith(prefix))
        .toList();
    boolean alive = workers.stream().anyMatch(Thread::isAlive);
    for (Thread t : workers) {
      t.join();
    }
    return alive;
  }

  static boolean inCall(Thread t, String method) {
    return t.isAlive() && Arrays.stream(t.getStackTrace())
        .anyMatch(f -> f.getClassName().equals(ArchiveReader.class.getName()) && f.getMethodName().equals(method));
  }

  static boolean joiningWorkers(Thread t) {
    Thread.State s = t.getState();
    return (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING) && Arrays.stream(t.getStackTrace())
        .anyMatch(f -> f.getMethodName().equals("joinWorkers"));
  }
}
