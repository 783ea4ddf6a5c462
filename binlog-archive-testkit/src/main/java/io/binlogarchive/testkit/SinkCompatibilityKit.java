package io.binlogarchive.testkit;

import io.binlogarchive.Archiver;
import io.binlogarchive.ChainBreakException;
import io.binlogarchive.FileResult;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.RunSummary;
import io.binlogarchive.Sidecar;
import io.binlogarchive.StoreException;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoreLease;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.store.spi.PreconditionFailedException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every {@link Sink} must have. A sink module extends this class, implements {@link
 * #newSink()} against its real server, and runs it with JUnit 5:
 *
 * <pre>{@code
 * @DisplayName("MySink")
 * class MySinkCompatibilityTest extends SinkCompatibilityKit {
 *   @Override
 *   protected Sink newSink() {
 *     return MySink.of(server.bucket(UUID.randomUUID().toString()));
 *   }
 * }
 * }</pre>
 *
 * <p>Every {@code @Nested} group states one part of the contract: round trips (empty, one byte,
 * multi-part, ranged reads), abort leaves nothing behind, no overwrite, adoption of an existing
 * object by the archiver (two real MariaDB binlogs shipped with the kit), listing by prefix,
 * missing objects, deletes, concurrent writers, and conditional writes where the sink has them.
 *
 * <p>(For maintainers: the kit is one class of about 700 lines because JUnit 5 runs a
 * {@code @Nested} group only as an inner class of the test class, and each group reaches the
 * subclass's {@link #newSink()} through it; the groups cannot live in files of their own. Its parts
 * are the factory hooks and shared helpers at the top, then one short group per part of the
 * contract.)
 */
public abstract class SinkCompatibilityKit {

  /** @return a sink over a fresh, empty namespace (a new bucket, prefix or directory) */
  protected abstract Sink newSink() throws Exception;

  /**
   * @return a payload size that forces the sink's multi-part or chunked path (default 20 MiB + 3)
   */
  protected int multiPartSize() {
    return 20 * 1024 * 1024 + 3;
  }

  /** Objects listed by the paging test; sinks set a small page size in {@link #newSink()}. */
  protected int listingCount() {
    return 25;
  }

  protected Sink sink;

  @BeforeEach
  public void openSink() throws Exception {
    sink = newSink();
  }

  @AfterEach
  public void closeSink() throws Exception {
    if (sink != null) {
      sink.close();
    }
  }

  /**
   * @param size bytes
   * @param seed the same seed gives the same bytes
   * @return pseudo-random (incompressible) bytes
   */
  public static byte[] payload(int size, long seed) {
    return KitSupport.payload(size, seed);
  }

  /**
   * @param b bytes
   * @return their SHA-256, lowercase hex
   */
  public static String sha256(byte[] b) {
    return KitSupport.sha256(b);
  }

  public StoredObject put(String key, byte[] data) throws IOException {
    try (SinkWriter w = sink.create(key, Map.of())) {
      writeSlices(w, data);
      return w.commit();
    }
  }

  /** Writes in uneven slices, as a compressor would. */
  public static void writeSlices(SinkWriter w, byte[] data) throws IOException {
    int off = 0;
    int step = 1;
    while (off < data.length) {
      int n = Math.min(step, data.length - off);
      w.write(data, off, n);
      off += n;
      step = step * 7 % 1_000_003 + 1;
    }
  }

  public byte[] read(String key, long offset) throws IOException {
    try (InputStream in = sink.open(key, offset)) {
      return in.readAllBytes();
    }
  }

  @Nested
  @DisplayName("a committed object")
  public class RoundTrip {
    @Test
    @DisplayName("reads back byte for byte when empty")
    public void empty() throws IOException {
      roundTrip("rt/empty", new byte[0]);
    }

    @Test
    @DisplayName("reads back byte for byte when one byte long")
    public void oneByte() throws IOException {
      roundTrip("rt/one", new byte[] {42});
    }

    @Test
    @DisplayName("reads back byte for byte when large enough to need several parts")
    public void multiPart() throws IOException {
      roundTrip("rt/multi", payload(multiPartSize(), 7));
    }

    @Test
    @DisplayName("reads from an offset (ranged read)")
    public void ranged() throws IOException {
      byte[] data = payload(100_000, 3);
      put("rt/ranged", data);
      byte[] tail = read("rt/ranged", 99_000);
      assertThat(tail).isEqualTo(java.util.Arrays.copyOfRange(data, 99_000, 100_000));
    }

    @Test
    @DisplayName("is described by stat with its size, and its reported sha256 (if any) matches")
    public void stat() throws IOException {
      byte[] data = payload(12_345, 5);
      StoredObject committed = put("rt/stat", data);
      assertThat(committed.size()).isEqualTo(data.length);
      if (committed.checksums().containsKey("sha256")) {
        assertThat(committed.checksums().get("sha256")).isEqualTo(sha256(data));
      }
      StoredObject st = sink.stat("rt/stat").orElseThrow();
      assertThat(st.key()).isEqualTo("rt/stat");
      assertThat(st.size()).isEqualTo(data.length);
    }

    public void roundTrip(String key, byte[] data) throws IOException {
      StoredObject o = put(key, data);
      assertThat(o.size()).isEqualTo(data.length);
      assertThat(sha256(read(key, 0))).isEqualTo(sha256(data));
    }
  }

  @Nested
  @DisplayName("an upload that is not committed")
  public class Abort {
    @Test
    @DisplayName("leaves nothing behind when aborted")
    public void abort() throws IOException {
      try (SinkWriter w = sink.create("ab/explicit", Map.of())) {
        w.write(payload(multiPartSize(), 1));
        w.abort();
      }
      assertThat(sink.stat("ab/explicit")).isEmpty();
      assertThat(sink.list("ab/")).isEmpty();
    }

    @Test
    @DisplayName("leaves nothing behind when an exception leaves try-with-resources")
    public void exceptionInside() {
      assertThatThrownBy(
              () -> {
                try (SinkWriter w = sink.create("ab/failed", Map.of())) {
                  w.write(payload(1000, 1));
                  throw new IllegalStateException("compressor failed");
                }
              })
          .hasMessage("compressor failed");
      assertThat(statQuietly("ab/failed")).isFalse();
    }

    @Test
    @DisplayName("rejects writes after abort")
    public void writeAfterAbort() throws IOException {
      SinkWriter w = sink.create("ab/late", Map.of());
      w.abort();
      assertThatThrownBy(() -> w.write(new byte[] {1})).isInstanceOf(IOException.class);
      w.close();
      assertThat(sink.stat("ab/late")).isEmpty();
    }

    @Test
    @DisplayName("may be aborted twice and closed after abort")
    public void doubleAbort() throws IOException {
      SinkWriter w = sink.create("ab/twice", Map.of());
      w.write(1);
      w.abort();
      w.abort();
      w.close();
      assertThat(sink.stat("ab/twice")).isEmpty();
    }
  }

  public boolean statQuietly(String key) {
    try {
      return sink.stat(key).isPresent();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Nested
  @DisplayName("an existing key")
  public class NoOverwrite {
    @Test
    @DisplayName("is never overwritten: a second commit fails with ObjectExistsException")
    public void refusesOverwrite() throws IOException {
      byte[] first = payload(1000, 1);
      put("nx/key", first);
      assertThatThrownBy(() -> put("nx/key", payload(2000, 2)))
          .isInstanceOf(ObjectExistsException.class)
          .hasMessageContaining("nx/key");
      assertThat(read("nx/key", 0)).isEqualTo(first);
    }

    @Test
    @DisplayName("admits exactly one of several concurrent writers")
    public void concurrentSameKey() throws Exception {
      race(50_000);
    }

    @Test
    @DisplayName("admits exactly one of several concurrent writers whose payloads take the multi-part path")
    public void concurrentSameKeyMultiPart() throws Exception {
      race(multiPartSize());
    }

    private void race(int size) throws Exception {
      int writers = 4;
      ExecutorService pool = Executors.newFixedThreadPool(writers);
      CountDownLatch ready = new CountDownLatch(writers);
      AtomicInteger wins = new AtomicInteger();
      AtomicInteger conflicts = new AtomicInteger();
      List<Future<byte[]>> results = new ArrayList<>();
      try {
        for (int i = 0; i < writers; i++) {
          byte[] data = payload(size + i, i);
          Callable<byte[]> task =
              () -> {
                try (SinkWriter w = sink.create("nx/race", Map.of())) {
                  w.write(data);
                  ready.countDown();
                  ready.await(30, TimeUnit.SECONDS);
                  w.commit();
                  wins.incrementAndGet();
                  return data;
                } catch (ObjectExistsException e) {
                  conflicts.incrementAndGet();
                  return null;
                }
              };
          results.add(pool.submit(task));
        }
        byte[] winner = null;
        for (Future<byte[]> f : results) {
          byte[] d = f.get(60, TimeUnit.SECONDS);
          if (d != null) {
            winner = d;
          }
        }
        assertThat(wins.get()).isEqualTo(1);
        assertThat(conflicts.get()).isEqualTo(writers - 1);
        assertThat(read("nx/race", 0)).isEqualTo(winner);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Nested
  @DisplayName("an artifact stored without its sidecar (a crash between the two), which the archiver adopts")
  public class Adoption {
    static final String KEY = "ad/artifact";
    @TempDir Path tmp;

    @Test
    @DisplayName("is kept when a writer sends the same bytes again: every write is taken, the commit fails with"
        + " ObjectExistsException")
    public void sameBytes() throws IOException {
      byte[] data = payload(multiPartSize(), 11);
      existsAtCommit(data, data);
    }

    @Test
    @DisplayName("is kept when a writer sends other bytes: every write is taken, the commit fails with"
        + " ObjectExistsException")
    public void otherBytes() throws IOException {
      existsAtCommit(payload(multiPartSize(), 11), payload(multiPartSize() + 1, 12));
    }

    /** What the archiver's adoption relies on: the existing object is found at commit, untouched. */
    public void existsAtCommit(byte[] first, byte[] second) throws IOException {
      StoredObject stored = put(KEY, first);
      try (SinkWriter w = sink.create(KEY, Map.of())) {
        writeSlices(w, second);
        assertThatThrownBy(w::commit).isInstanceOf(ObjectExistsException.class).hasMessageContaining(KEY);
      }
      assertThat(sink.list("ad/")).singleElement().satisfies(o -> {
        assertThat(o.key()).isEqualTo(KEY);
        assertThat(o.size()).isEqualTo(first.length);
      });
      if (stored.version() != null) {
        assertThat(sink.stat(KEY).orElseThrow().version()).isEqualTo(stored.version());
      }
      assertThat(sha256(read(KEY, 0))).isEqualTo(sha256(first));
    }

    public Archiver archiver(Path binlogs) throws IOException {
      // uncompressed, so the artifacts (1-2 MB) take a sink's chunked or multi-part path where it has one
      return Archiver.builder().source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index"))).sink(sink)
          .prefix("adopt").serverId("db1").compression(Transform.none()).cursorFile(tmp.resolve("cursor.json"))
          .retryPolicy(RetryPolicy.none()).build();
    }

    @Test
    @DisplayName("is adopted by the archiver when it holds exactly the local binlog: kept as it is, its sidecar written")
    public void archiverAdoptsMatchingArtifact() throws Exception {
      Path binlogs = KitSupport.copyBinlogs(tmp.resolve("binlogs"));
      Sidecar first;
      try (Archiver a = archiver(binlogs)) {
        RunSummary s = a.runOnce();
        assertThat(s.failure()).isNull();
        first = s.results().get(0).sidecar();
      }
      String sidecarKey = first.artifact().key().replaceFirst("mysql-bin\\.000001.*$", "mysql-bin.000001.json");
      StoredObject artifact = sink.stat(first.artifact().key()).orElseThrow();
      sink.delete(sidecarKey);
      java.nio.file.Files.delete(tmp.resolve("cursor.json"));

      try (Archiver a = archiver(binlogs)) {
        RunSummary s = a.runOnce();
        assertThat(s.failure()).isNull();
        assertThat(s.results().get(0).status()).isEqualTo(FileResult.Status.ARCHIVED);
        assertThat(s.results().get(0).sidecar().sha256()).isEqualTo(first.sha256());
      }
      StoredObject after = sink.stat(first.artifact().key()).orElseThrow();
      assertThat(after.size()).isEqualTo(artifact.size());
      if (artifact.version() != null) {
        assertThat(after.version()).as("the artifact was kept, not written again").isEqualTo(artifact.version());
      }
      assertThat(sink.stat(sidecarKey)).isPresent();
    }

    @Test
    @DisplayName("halts the archiver with a chain break, untouched, when it holds other bytes")
    public void archiverHaltsOnOtherArtifact() throws Exception {
      Path binlogs = KitSupport.copyBinlogs(tmp.resolve("binlogs"));
      String artifactKey = "adopt/db1/t0001/binlog/mysql-bin.000001" + Transform.none().extension();
      byte[] other = java.nio.file.Files.readAllBytes(binlogs.resolve("mysql-bin.000002"));
      StoredObject planted = put(artifactKey, other);

      try (Archiver a = archiver(binlogs)) {
        RunSummary s = a.runOnce();
        assertThat(s.failure()).isInstanceOf(ChainBreakException.class).hasMessageContaining(artifactKey)
            .hasMessageContaining("left untouched");
        assertThat(s.failedFile().name()).isEqualTo("mysql-bin.000001");
      }
      assertThat(sha256(read(artifactKey, 0))).isEqualTo(sha256(other));
      if (planted.version() != null) {
        assertThat(sink.stat(artifactKey).orElseThrow().version()).isEqualTo(planted.version());
      }
      assertThat(sink.stat("adopt/db1/t0001/binlog/mysql-bin.000001.json")).isEmpty();
    }
  }

  @Nested
  @DisplayName("listing")
  public class Listing {
    @Test
    @DisplayName("returns every object under a prefix, sorted by key, across pages")
    public void byPrefix() throws IOException {
      int n = listingCount();
      List<String> expected = new ArrayList<>();
      for (int i = n - 1; i >= 0; i--) {
        String key = String.format("ls/a/%03d", i);
        put(key, new byte[] {(byte) i});
        expected.add(0, key);
      }
      put("ls/b/other", new byte[] {1});
      put("lsx", new byte[] {1});
      assertThat(sink.list("ls/a/")).extracting(StoredObject::key).containsExactlyElementsOf(expected);
      assertThat(sink.list("ls/")).hasSize(n + 1);
      assertThat(sink.list("nothing-here/")).isEmpty();
    }

    @Test
    @DisplayName("does not show uncommitted uploads")
    public void hidesUncommitted() throws IOException {
      try (SinkWriter w = sink.create("lu/pending", Map.of())) {
        w.write(payload(10, 1));
        assertThat(sink.list("lu/")).isEmpty();
        assertThat(sink.stat("lu/pending")).isEmpty();
      }
    }
  }

  @Nested
  @DisplayName("a missing object")
  public class Missing {
    @Test
    @DisplayName("has no stat")
    public void stat() throws IOException {
      assertThat(sink.stat("missing/x")).isEmpty();
    }

    @Test
    @DisplayName("fails to open with NotFoundException naming the key")
    public void open() {
      assertThatThrownBy(() -> sink.open("missing/x").close())
          .isInstanceOf(NotFoundException.class)
          .hasMessageContaining("missing/x");
    }

    @Test
    @DisplayName("may be deleted without error")
    public void delete() throws IOException {
      sink.delete("missing/x");
      assertThat(sink.stat("missing/x")).isEmpty();
    }
  }

  @Nested
  @DisplayName("deleting")
  public class Deleting {
    @Test
    @DisplayName("removes the object and frees its key for a new one")
    public void deletes() throws IOException {
      put("del/x", payload(100, 1));
      sink.delete("del/x");
      assertThat(sink.stat("del/x")).isEmpty();
      byte[] again = payload(50, 2);
      put("del/x", again);
      assertThat(read("del/x", 0)).isEqualTo(again);
    }
  }

  @Nested
  @DisplayName("concurrent writers to different keys")
  public class Concurrency {
    @Test
    @DisplayName("all succeed and each object holds its own bytes")
    public void differentKeys() throws Exception {
      int writers = 8;
      ExecutorService pool = Executors.newFixedThreadPool(writers);
      try {
        List<Future<?>> fs = new ArrayList<>();
        for (int i = 0; i < writers; i++) {
          int id = i;
          fs.add(pool.submit(() -> put("cc/" + id, payload(200_000 + id, id))));
        }
        for (Future<?> f : fs) {
          f.get(120, TimeUnit.SECONDS);
        }
        for (int i = 0; i < writers; i++) {
          MessageDigest d = KitSupport.sha256Digest();
          d.update(read("cc/" + i, 0));
          assertThat(HexFormat.of().formatHex(d.digest())).isEqualTo(sha256(payload(200_000 + i, i)));
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Nested
  @DisplayName("conditional writes")
  public class ConditionalWrites {
    static final String KEY = "cw/doc";

    @BeforeEach
    public void onlyWhereSupported() {
      assumeTrue(
          sink.supportsConditionalWrites(),
          () -> sink.describe() + " reports supportsConditionalWrites() == false: its conditional replace and delete"
              + " are not part of its contract, so these checks do not apply");
    }

    public byte[] text(String s) {
      return s.getBytes(StandardCharsets.UTF_8);
    }

    public String readText(String key) throws IOException {
      return new String(read(key, 0), StandardCharsets.UTF_8);
    }

    @Test
    @DisplayName("report a version when an object is committed, and stat and list report the same one")
    public void createReportsVersion() throws IOException {
      StoredObject created = put(KEY, text("one"));
      assertThat(created.version()).as("version from commit").isNotBlank();
      assertThat(sink.stat(KEY).orElseThrow().version()).as("version from stat").isEqualTo(created.version());
      assertThat(sink.list("cw/")).singleElement().satisfies(listed -> {
        if (listed.version() != null) {
          assertThat(listed.version()).as("version from list").isEqualTo(created.version());
        }
      });
    }

    @Test
    @DisplayName("replace an object at its current version, returning a new version that stat then reports")
    public void replaceAtCurrentVersion() throws IOException {
      StoredObject v1 = put(KEY, text("one"));
      StoredObject v2 = sink.replace(KEY, v1.version(), text("two!"));
      assertThat(v2.key()).isEqualTo(KEY);
      assertThat(v2.size()).isEqualTo(4);
      assertThat(v2.version()).isNotBlank().isNotEqualTo(v1.version());
      assertThat(sink.stat(KEY).orElseThrow().version()).isEqualTo(v2.version());
      assertThat(readText(KEY)).isEqualTo("two!");
      StoredObject v3 = sink.replace(KEY, v2.version(), text("three"));
      assertThat(v3.version()).isNotIn(v1.version(), v2.version());
      assertThat(readText(KEY)).isEqualTo("three");
    }

    @Test
    @DisplayName("refuse a replace at a stale version with PreconditionFailedException, leaving the content as it was")
    public void replaceAtStaleVersion() throws IOException {
      StoredObject v1 = put(KEY, text("one"));
      StoredObject v2 = sink.replace(KEY, v1.version(), text("two"));
      assertThatThrownBy(() -> sink.replace(KEY, v1.version(), text("late")))
          .isInstanceOf(PreconditionFailedException.class)
          .hasMessageContaining(KEY)
          .satisfies(e -> assertThat(((StoreException) e).isRetryable()).isFalse());
      assertThat(readText(KEY)).isEqualTo("two");
      assertThat(sink.stat(KEY).orElseThrow().version()).isEqualTo(v2.version());
    }

    @Test
    @DisplayName("refuse a replace of an object that no longer exists, creating nothing")
    public void replaceOfMissingObject() throws IOException {
      StoredObject v1 = put(KEY, text("one"));
      sink.delete(KEY);
      assertThatThrownBy(() -> sink.replace(KEY, v1.version(), text("again")))
          .isInstanceOf(PreconditionFailedException.class)
          .hasMessageContaining(KEY);
      assertThat(sink.stat(KEY)).isEmpty();
    }

    @Test
    @DisplayName("refuse a delete at a stale version with PreconditionFailedException, leaving the object")
    public void deleteAtStaleVersion() throws IOException {
      StoredObject v1 = put(KEY, text("one"));
      StoredObject v2 = sink.replace(KEY, v1.version(), text("two"));
      assertThatThrownBy(() -> sink.delete(KEY, v1.version()))
          .isInstanceOf(PreconditionFailedException.class)
          .hasMessageContaining(KEY);
      assertThat(sink.stat(KEY).orElseThrow().version()).isEqualTo(v2.version());
      assertThat(readText(KEY)).isEqualTo("two");
    }

    @Test
    @DisplayName("delete an object at its current version, and refuse to delete it again")
    public void deleteAtCurrentVersion() throws IOException {
      StoredObject v1 = put(KEY, text("one"));
      put("cw/neighbour", text("stays"));
      sink.delete(KEY, v1.version());
      assertThat(sink.stat(KEY)).isEmpty();
      assertThat(sink.list("cw/")).extracting(StoredObject::key).containsExactly("cw/neighbour");
      assertThatThrownBy(() -> sink.delete(KEY, v1.version()))
          .isInstanceOf(PreconditionFailedException.class)
          .hasMessageContaining(KEY);
    }

    @Test
    @DisplayName("let exactly one of several concurrent replacers with the same expected version win")
    public void concurrentReplacers() throws Exception {
      StoredObject v1 = put(KEY, text("original"));
      int replacers = 4;
      ExecutorService pool = Executors.newFixedThreadPool(replacers);
      CountDownLatch ready = new CountDownLatch(replacers);
      List<Future<StoredObject>> results = new ArrayList<>();
      try {
        for (int i = 0; i < replacers; i++) {
          byte[] content = text("replacer " + i);
          results.add(pool.submit(() -> {
            ready.countDown();
            ready.await(30, TimeUnit.SECONDS);
            try {
              return sink.replace(KEY, v1.version(), content);
            } catch (PreconditionFailedException e) {
              return null;
            }
          }));
        }
        List<StoredObject> winners = new ArrayList<>();
        for (Future<StoredObject> f : results) {
          StoredObject o = f.get(60, TimeUnit.SECONDS);
          if (o != null) {
            winners.add(o);
          }
        }
        assertThat(winners).hasSize(1);
        StoredObject winner = winners.get(0);
        assertThat(sink.stat(KEY).orElseThrow().version()).isEqualTo(winner.version());
        assertThat(readText(KEY)).startsWith("replacer ").hasSize((int) winner.size());
      } finally {
        pool.shutdownNow();
      }
    }

    @Test
    @DisplayName("carry a StoreLease: a second agent takes over only after a whole ttl unrenewed, never while the first holds it")
    public void leaseHandOver() throws IOException {
      AtomicLong nanos = new AtomicLong(5_000_000_000L);
      Duration ttl = Duration.ofSeconds(10);
      List<String> lostByA = new ArrayList<>();
      StoreLease a = lease("agent-a", ttl, nanos, lostByA);
      try (StoreLease b = lease("agent-b", ttl, nanos, new ArrayList<>())) {
        assertThat(a.tryAcquire()).isTrue();
        assertThat(b.tryAcquire()).as("standby while A renews").isFalse();
        for (int i = 0; i < 4; i++) {
          nanos.addAndGet(Duration.ofSeconds(6).toNanos()); // more than half a ttl between polls
          assertThat(a.renew()).isTrue();
          assertThat(b.tryAcquire()).as("standby while A renews").isFalse();
          assertAtMostOneHolder(a, b);
        }
        // A freezes: it renews no more
        nanos.addAndGet(ttl.minusNanos(1).toNanos());
        assertThat(b.tryAcquire()).as("B before a whole ttl has passed").isFalse();
        assertThat(a.isHeld()).isTrue();
        nanos.addAndGet(1);
        assertThat(a.isHeld()).as("A fences itself at its ttl").isFalse();
        assertThat(b.tryAcquire()).as("B after a whole ttl").isTrue();
        assertAtMostOneHolder(a, b);
        assertThat(a.renew()).as("A renewing after the take-over").isFalse();
        assertThat(lostByA).singleElement().asString().contains("agent-b");
        assertThat(b.currentHolder()).get().satisfies(h -> {
          assertThat(h.holder()).isEqualTo("agent-b");
          assertThat(h.generation()).isEqualTo(2);
        });
        a.close(); // A no longer holds it: must not release B's lease
        assertThat(b.currentHolder()).get().extracting(StoreLease.Holder::holder).isEqualTo("agent-b");
        assertThat(b.renew()).isTrue();
      } finally {
        a.close();
      }
      assertThat(sink.stat("lease/db1/lease.json")).as("released by B on close").isEmpty();
    }

    private StoreLease lease(String holder, Duration ttl, AtomicLong nanos, List<String> lost) {
      return StoreLease.builder(sink, "lease/db1/lease.json")
          .holderId(holder)
          .ttl(ttl)
          .heartbeat(false)
          .clock(Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC))
          .nanoTime(nanos::get)
          .onLost(lost::add)
          .build();
    }

    private void assertAtMostOneHolder(StoreLease a, StoreLease b) {
      assertThat(a.isHeld() && b.isHeld()).as("both agents hold the lease").isFalse();
    }
  }
}
