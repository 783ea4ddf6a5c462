package io.binlogarchive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link Sink} must have. A sink module extends this class, implements {@link
 * #newSink()} against its real server, and runs it. Shipped in core's test-jar.
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
  void openSink() throws Exception {
    sink = newSink();
  }

  @AfterEach
  void closeSink() throws Exception {
    if (sink != null) {
      sink.close();
    }
  }

  static byte[] payload(int size, long seed) {
    return StoreTests.payload(size, seed);
  }

  static String sha256(byte[] b) {
    return StoreTests.sha256(b);
  }

  StoredObject put(String key, byte[] data) throws IOException {
    try (SinkWriter w = sink.create(key, Map.of())) {
      // write in uneven slices, as a compressor would
      int off = 0;
      int step = 1;
      while (off < data.length) {
        int n = Math.min(step, data.length - off);
        w.write(data, off, n);
        off += n;
        step = step * 7 % 1_000_003 + 1;
      }
      return w.commit();
    }
  }

  byte[] read(String key, long offset) throws IOException {
    try (InputStream in = sink.open(key, offset)) {
      return in.readAllBytes();
    }
  }

  @Nested
  @DisplayName("a committed object")
  class RoundTrip {
    @Test
    @DisplayName("reads back byte for byte when empty")
    void empty() throws IOException {
      roundTrip("rt/empty", new byte[0]);
    }

    @Test
    @DisplayName("reads back byte for byte when one byte long")
    void oneByte() throws IOException {
      roundTrip("rt/one", new byte[] {42});
    }

    @Test
    @DisplayName("reads back byte for byte when large enough to need several parts")
    void multiPart() throws IOException {
      roundTrip("rt/multi", payload(multiPartSize(), 7));
    }

    @Test
    @DisplayName("reads from an offset (ranged read)")
    void ranged() throws IOException {
      byte[] data = payload(100_000, 3);
      put("rt/ranged", data);
      byte[] tail = read("rt/ranged", 99_000);
      assertThat(tail).isEqualTo(java.util.Arrays.copyOfRange(data, 99_000, 100_000));
    }

    @Test
    @DisplayName("is described by stat with its size, and its reported sha256 (if any) matches")
    void stat() throws IOException {
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

    void roundTrip(String key, byte[] data) throws IOException {
      StoredObject o = put(key, data);
      assertThat(o.size()).isEqualTo(data.length);
      assertThat(sha256(read(key, 0))).isEqualTo(sha256(data));
    }
  }

  @Nested
  @DisplayName("an upload that is not committed")
  class Abort {
    @Test
    @DisplayName("leaves nothing behind when aborted")
    void abort() throws IOException {
      try (SinkWriter w = sink.create("ab/explicit", Map.of())) {
        w.write(payload(multiPartSize(), 1));
        w.abort();
      }
      assertThat(sink.stat("ab/explicit")).isEmpty();
      assertThat(sink.list("ab/")).isEmpty();
    }

    @Test
    @DisplayName("leaves nothing behind when an exception leaves try-with-resources")
    void exceptionInside() {
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
    void writeAfterAbort() throws IOException {
      SinkWriter w = sink.create("ab/late", Map.of());
      w.abort();
      assertThatThrownBy(() -> w.write(new byte[] {1})).isInstanceOf(IOException.class);
      w.close();
      assertThat(sink.stat("ab/late")).isEmpty();
    }

    @Test
    @DisplayName("may be aborted twice and closed after abort")
    void doubleAbort() throws IOException {
      SinkWriter w = sink.create("ab/twice", Map.of());
      w.write(1);
      w.abort();
      w.abort();
      w.close();
      assertThat(sink.stat("ab/twice")).isEmpty();
    }
  }

  boolean statQuietly(String key) {
    try {
      return sink.stat(key).isPresent();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  @Nested
  @DisplayName("an existing key")
  class NoOverwrite {
    @Test
    @DisplayName("is never overwritten: a second commit fails with ObjectExistsException")
    void refusesOverwrite() throws IOException {
      byte[] first = payload(1000, 1);
      put("nx/key", first);
      assertThatThrownBy(() -> put("nx/key", payload(2000, 2)))
          .isInstanceOf(ObjectExistsException.class)
          .hasMessageContaining("nx/key");
      assertThat(read("nx/key", 0)).isEqualTo(first);
    }

    @Test
    @DisplayName("admits exactly one of several concurrent writers")
    void concurrentSameKey() throws Exception {
      race(50_000);
    }

    @Test
    @DisplayName("admits exactly one of several concurrent writers whose payloads take the multi-part path")
    void concurrentSameKeyMultiPart() throws Exception {
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
  @DisplayName("listing")
  class Listing {
    @Test
    @DisplayName("returns every object under a prefix, sorted by key, across pages")
    void byPrefix() throws IOException {
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
    void hidesUncommitted() throws IOException {
      try (SinkWriter w = sink.create("lu/pending", Map.of())) {
        w.write(payload(10, 1));
        assertThat(sink.list("lu/")).isEmpty();
        assertThat(sink.stat("lu/pending")).isEmpty();
      }
    }
  }

  @Nested
  @DisplayName("a missing object")
  class Missing {
    @Test
    @DisplayName("has no stat")
    void stat() throws IOException {
      assertThat(sink.stat("missing/x")).isEmpty();
    }

    @Test
    @DisplayName("fails to open with NotFoundException naming the key")
    void open() {
      assertThatThrownBy(() -> sink.open("missing/x").close())
          .isInstanceOf(NotFoundException.class)
          .hasMessageContaining("missing/x");
    }

    @Test
    @DisplayName("may be deleted without error")
    void delete() throws IOException {
      sink.delete("missing/x");
      assertThat(sink.stat("missing/x")).isEmpty();
    }
  }

  @Nested
  @DisplayName("deleting")
  class Deleting {
    @Test
    @DisplayName("removes the object and frees its key for a new one")
    void deletes() throws IOException {
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
  class Concurrency {
    @Test
    @DisplayName("all succeed and each object holds its own bytes")
    void differentKeys() throws Exception {
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
          MessageDigest d = Digests.sha256();
          d.update(read("cc/" + i, 0));
          assertThat(HexFormat.of().formatHex(d.digest())).isEqualTo(sha256(payload(200_000 + i, i)));
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
