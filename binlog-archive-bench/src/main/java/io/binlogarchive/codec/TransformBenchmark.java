package io.binlogarchive.codec;

import io.binlogarchive.crypto.StaticKeyProvider;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Warm throughput of the built-in transforms through their public {@link Transform} streams, as the
 * pipeline drives them: {@code wrap} written in 1 MiB slices, {@code unwrap} read into a 1 MiB
 * buffer. The input is 64 MB of text rows (numbers, random hex strings and padding), made in
 * memory with a fixed seed. The {@code bytes} counter is the plaintext throughput in bytes per
 * second; nothing here is compared with a stock tool.
 *
 * <p>{@code java -cp "$(bench/classpath.sh)" org.openjdk.jmh.Main TransformBenchmark [-p codec=zstd-3]}
 * from the project root. The comparison with {@code openssl} in the same run is {@code
 * crypto.AesGcmThroughput}'s job, not this one's.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgs = "-Xmx1g")
public class TransformBenchmark {
  private static final int SLICE = 1 << 20;

  /** The codec under test: zstd level 3 on the calling thread, zstd level 3 with two workers, gzip level 6, AES-256-GCM. */
  @Param({"zstd-3", "zstd-3-workers-2", "gzip-6", "aes-256-gcm"})
  public String codec;

  private Transform transform;
  private byte[] plain;
  private byte[] wrapped;

  /** Bytes of plaintext processed, reported by JMH as a rate next to the operations. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Bytes {
    /** Plaintext bytes. */
    public long bytes;
  }

  /** Builds the input and its wrapped form once. */
  @Setup(Level.Trial)
  public void setUp() throws IOException {
    transform = switch (codec) {
      case "zstd-3" -> Transform.zstd(3);
      case "zstd-3-workers-2" -> Transform.zstd(3, 2);
      case "gzip-6" -> Transform.gzip(6);
      case "aes-256-gcm" -> Transform.aesGcm(StaticKeyProvider.builder().key("bench", new byte[32]).build());
      default -> throw new IllegalArgumentException("unknown codec " + codec);
    };
    plain = rows(64_000_000);
    ByteArrayOutputStream out = new ByteArrayOutputStream(plain.length / 2);
    try (OutputStream w = transform.wrap(out)) {
      w.write(plain);
    }
    wrapped = out.toByteArray();
  }

  /** Archive direction: plaintext in, artifact bytes discarded. */
  @Benchmark
  public void wrap(Bytes counter) throws IOException {
    try (OutputStream w = transform.wrap(OutputStream.nullOutputStream())) {
      for (int off = 0; off < plain.length; off += SLICE) {
        w.write(plain, off, Math.min(SLICE, plain.length - off));
      }
    }
    counter.bytes += plain.length;
  }

  /** Restore direction: artifact in, plaintext read and counted. */
  @Benchmark
  public long unwrap(Bytes counter) throws IOException {
    byte[] buf = new byte[SLICE];
    long total = 0;
    try (InputStream r = transform.unwrap(new ByteArrayInputStream(wrapped))) {
      for (int n; (n = r.read(buf)) >= 0; ) {
        total += n;
      }
    }
    counter.bytes += total;
    return total;
  }

  /** Text rows like a binlog's row images: an id, a number, a hex string and some padding. */
  private static byte[] rows(int size) {
    SplittableRandom random = new SplittableRandom(7);
    StringBuilder sb = new StringBuilder(size + 256);
    for (long id = 1; sb.length() < size; id++) {
      sb.append(id).append('\t').append(random.nextInt(100_000)).append('\t')
          .append(Long.toHexString(random.nextLong())).append(Long.toHexString(random.nextLong())).append('\t')
          .append("x".repeat(random.nextInt(60))).append('\n');
    }
    return sb.substring(0, size).getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }
}
