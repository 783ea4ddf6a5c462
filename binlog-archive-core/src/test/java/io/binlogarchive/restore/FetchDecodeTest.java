package io.binlogarchive.restore;

import io.binlogarchive.Archiver;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.crypto.StaticKeyProvider;
import io.binlogarchive.internal.decode.ArtifactDecoder;
import io.binlogarchive.internal.decode.DirectBuffers;
import io.binlogarchive.internal.decode.PlaintextChunks;
import io.binlogarchive.internal.decode.PlaintextWorker;
import io.binlogarchive.internal.decode.ReadAhead;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.testing.Fixtures;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.luben.zstd.Zstd;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fetch's decode path: zstd decompressed into direct buffers ({@link PlaintextChunks}), the
 * stored bytes read and decrypted ahead ({@link ReadAhead}), and the plaintext written and hashed
 * on a worker ({@link PlaintextWorker}).
 */
@DisplayName("The fetch decode path")
class FetchDecodeTest {
  @TempDir Path tmp;

  static byte[] data(int n, long seed) {
    byte[] b = new byte[n];
    Random r = new Random(seed);
    for (int i = 0; i < n; i++) {
      b[i] = (byte) ("binlog event ".charAt(i % 13) + (r.nextInt(8) == 0 ? r.nextInt(4) : 0));
    }
    return b;
  }

  static byte[] zstd(byte[] plain) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream z = Transform.zstd(3).wrap(out)) {
      z.write(plain);
    }
    return out.toByteArray();
  }

  /** Decodes with a destination buffer of {@code dstSize} bytes, as the fetch does with 1 MiB. */
  static byte[] decode(byte[] compressed, int dstSize) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteBuffer dst = ByteBuffer.allocateDirect(dstSize);
    try (PlaintextChunks c = PlaintextChunks.of(new ByteArrayInputStream(compressed), Transform.zstd(3),
        1 << 16, "test-read")) {
      while (c.fill(dst.clear()) > 0) {
        dst.flip();
        byte[] b = new byte[dst.remaining()];
        dst.get(b);
        out.write(b);
      }
    }
    return out.toByteArray();
  }

  @Nested
  @DisplayName("zstd into direct buffers")
  class ZstdChunks {
    @Test
    @DisplayName("gives back every byte, whatever the buffer size (1 byte, 7 bytes, 1 MiB)")
    void roundTrip() throws IOException {
      byte[] plain = data(3 << 20, 1);
      byte[] z = zstd(plain);
      assertThat(decode(z, 1 << 20)).isEqualTo(plain);
      byte[] small = data(50_000, 2);
      assertThat(decode(zstd(small), 7)).isEqualTo(small);
      assertThat(decode(zstd(small), 1)).isEqualTo(small);
    }

    @Test
    @DisplayName("decodes concatenated frames as zstd -d does, and an empty frame to nothing")
    void frames() throws IOException {
      byte[] a = data(200_000, 3);
      byte[] b = data(100_000, 4);
      ByteArrayOutputStream both = new ByteArrayOutputStream();
      both.write(zstd(a));
      both.write(Zstd.compress(b, 1));
      byte[] expected = Arrays.copyOf(a, a.length + b.length);
      System.arraycopy(b, 0, expected, a.length, b.length);
      assertThat(decode(both.toByteArray(), 1 << 16)).isEqualTo(expected);
      assertThat(decode(zstd(new byte[0]), 1 << 16)).isEmpty();
    }

    @Test
    @DisplayName("a stream cut inside its frame, at any of several points, fails as truncated")
    void truncated() throws IOException {
      byte[] z = zstd(data(500_000, 5));
      for (int cut : new int[] {5, z.length / 3, z.length - 5, z.length - 1}) {
        byte[] part = Arrays.copyOf(z, cut);
        assertThatThrownBy(() -> decode(part, 1 << 16)).as("cut at %d of %d", cut, z.length)
            .isInstanceOf(IOException.class).hasMessageContaining("truncated");
      }
    }

    @Test
    @DisplayName("an empty stream, a flipped byte and trailing garbage fail with zstd's reason")
    void corrupt() throws IOException {
      assertThatThrownBy(() -> decode(new byte[0], 1 << 16)).isInstanceOf(IOException.class)
          .hasMessageContaining("empty");
      byte[] z = zstd(data(500_000, 6));
      byte[] flipped = z.clone();
      flipped[z.length / 2] ^= 0x20;
      assertThatThrownBy(() -> decode(flipped, 1 << 16)).isInstanceOf(IOException.class).hasMessageStartingWith("zstd:");
      byte[] trailing = Arrays.copyOf(z, z.length + 9);
      assertThatThrownBy(() -> decode(trailing, 1 << 16)).isInstanceOf(IOException.class).hasMessageStartingWith("zstd:");
    }
  }

  @Nested
  @DisplayName("the read-ahead")
  class ReadAheadStage {
    @Test
    @DisplayName("hands over the stream's bytes in order and its exception unchanged, after the bytes read before it")
    void failurePassesThrough() throws IOException {
      IntegrityException boom = new IntegrityException("segment 3 failed authentication");
      byte[] head = data(10_000, 7);
      InputStream failing = new InputStream() {
        int pos;

        @Override
        public int read() {
          throw new UnsupportedOperationException();
        }

        @Override
        public int read(byte[] b, int off, int len) {
          if (pos == head.length) {
            throw boom;
          }
          int n = Math.min(len, head.length - pos);
          System.arraycopy(head, pos, b, off, n);
          pos += n;
          return n;
        }
      };
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      try (ReadAhead r = new ReadAhead(failing, 2, 4096, "test-read")) {
        assertThatThrownBy(() -> {
          for (ByteBuffer b; (b = r.next()) != null; r.recycle(b)) {
            byte[] x = new byte[b.remaining()];
            b.get(x);
            got.write(x);
          }
        }).isSameAs(boom);
      }
      assertThat(got.toByteArray()).isEqualTo(head);
    }

    @Test
    @DisplayName("closing it while the reader waits for a free buffer stops the reader and closes the stream")
    void closeStops() throws Exception {
      boolean[] closed = {false};
      InputStream endless = new InputStream() {
        @Override
        public int read() {
          return 1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
          Arrays.fill(b, off, off + len, (byte) 1);
          return len;
        }

        @Override
        public void close() {
          closed[0] = true;
        }
      };
      ReadAhead r = new ReadAhead(endless, 2, 4096, "test-read");
      assertThat(r.next()).isNotNull(); // the reader is now blocked on a full queue
      r.close();
      assertThat(closed[0]).isTrue();
    }
  }

  @Nested
  @DisplayName("a fetch")
  class Fetch {
    RestorePlan archive(FileSystemSink sink, Transform encryption) throws Exception {
      Path binlogs = Fixtures.copyChain(tmp.resolve("binlogs"), 4);
      try (Archiver a = Archiver.builder()
          .source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index")))
          .sink(sink).serverId("db1").cursorFile(tmp.resolve("cursor.json")).retryPolicy(RetryPolicy.none())
          .compression(Transform.zstd(3)).encryption(encryption).build()) {
        assertThat(a.runOnce().failure()).isNull();
      }
      return ArchiveReader.builder().sink(sink).serverId("db1").build()
          .planFrom("mysql-bin.000001", 4, RestoreTarget.latest());
    }

    @Test
    @DisplayName("with and without syncFetchedFiles, writes the original bytes of every file (encrypted archive)")
    void syncAndNot() throws Exception {
      KeyProvider keys = StaticKeyProvider.builder().key("k1", new byte[32]).primary("k1").build();
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
      RestorePlan plan = archive(sink, Transform.aesGcm(keys));
      for (boolean sync : new boolean[] {false, true}) {
        Path dir = tmp.resolve("restore-" + sync);
        ArchiveReader reader = ArchiveReader.builder().sink(sink).serverId("db1").keyProvider(keys)
            .syncFetchedFiles(sync).build();
        FetchResult f = reader.fetch(plan, dir);
        assertThat(f.fetched()).isEqualTo(3);
        for (Path p : f.files()) {
          assertThat(Files.readAllBytes(p)).as("%s (sync %s)", p.getFileName(), sync)
              .isEqualTo(Files.readAllBytes(tmp.resolve("binlogs").resolve(p.getFileName())));
        }
        try (var list = Files.list(dir)) {
          assertThat(list.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".part"));
        }
      }
    }

    @Test
    @DisplayName("gives its direct buffers back to the pool after a fetch and after a failed decode, so direct memory stays bounded")
    void buffersComeBack() throws Exception {
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
      RestorePlan plan = archive(sink, null);
      ArchiveReader reader = ArchiveReader.builder().sink(sink).serverId("db1").parallelism(1).build();
      reader.fetch(plan, tmp.resolve("restore"));
      long afterOne = DirectBuffers.retainedBytes();
      // what one decode holds: the worker's four 1 MiB buffers and the read-ahead's three
      assertThat(afterOne).isGreaterThanOrEqualTo(4L * ArtifactDecoder.BUFFER + 3L * (ArtifactDecoder.BUFFER / 4));
      for (int i = 0; i < 5; i++) {
        FetchResult f = reader.fetch(plan, tmp.resolve("restore-" + i));
        assertThat(f.fetched()).isEqualTo(3);
      }
      assertThat(DirectBuffers.retainedBytes()).isEqualTo(afterOne).isLessThanOrEqualTo(DirectBuffers.RETAINED);
      ArtifactDecoder.Consumer failing = chunk -> {
        throw new IOException("No space left on device");
      };
      assertThatThrownBy(() -> ArtifactDecoder.decode(sink, plan.files().get(0), null, failing, false))
          .hasMessageContaining("No space left on device");
      assertThat(DirectBuffers.retainedBytes()).isEqualTo(afterOne);
    }

    @Test
    @DisplayName("a tampered encrypted artifact fails the fetch naming the object, the binlog and the failed segment; nothing is renamed into place")
    void tamperedEncryptedArtifact() throws Exception {
      KeyProvider keys = StaticKeyProvider.builder().key("k1", new byte[32]).primary("k1").build();
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
      RestorePlan plan = archive(sink, Transform.aesGcm(keys));
      Sidecar victim = plan.files().get(1);
      Path object = sink.root().resolve(victim.artifact().key());
      byte[] b = Files.readAllBytes(object);
      b[b.length / 2] ^= 0x01;
      Files.write(object, b);
      ArchiveReader reader = ArchiveReader.builder().sink(sink).serverId("db1").keyProvider(keys)
          .retryPolicy(RetryPolicy.none()).build();
      Path dir = tmp.resolve("restore");
      assertThatThrownBy(() -> reader.fetch(plan, dir))
          .isInstanceOf(IntegrityException.class)
          .hasMessageContaining(victim.artifact().key())
          .hasMessageContaining(victim.file())
          .hasMessageContaining("authentication failed for segment");
      assertThat(dir.resolve(victim.file())).doesNotExist();
    }

    @Test
    @DisplayName("a write that fails (a full disk) surfaces as that IOException, not as a corrupt artifact")
    void writeFailureIsNotCorruption() throws Exception {
      FileSystemSink sink = FileSystemSink.of(tmp.resolve("archive"));
      RestorePlan plan = archive(sink, null);
      IOException full = new IOException("No space left on device");
      boolean[] failed = {false};
      ArtifactDecoder.FailureAware out = new ArtifactDecoder.FailureAware() {
        long written;

        @Override
        public void accept(ByteBuffer chunk) throws IOException {
          written += chunk.remaining();
          if (written > 100_000) {
            failed[0] = true;
            throw full;
          }
        }

        @Override
        public boolean failed() {
          return failed[0];
        }
      };
      Sidecar big = plan.files().stream().max(java.util.Comparator.comparingLong(Sidecar::size)).orElseThrow();
      assertThat(big.size()).isGreaterThan(100_000);
      assertThatThrownBy(() -> ArtifactDecoder.decode(sink, big, null, out, false)).isSameAs(full);
    }
  }
}
