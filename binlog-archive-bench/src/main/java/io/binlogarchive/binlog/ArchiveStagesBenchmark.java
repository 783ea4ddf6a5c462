package io.binlogarchive.binlog;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The stages of the archive path's reading thread, alone and together, over the same bytes on one
 * thread: SHA-256, the {@link BinlogScanner} (CRC32 of every event, GTIDs, times) and zstd level 3
 * (one thread, output discarded). Input: the 13-file MariaDB fixture chain ({@code shared/fixtures},
 * about 13 MB) fed in 1 MiB slices as the pipeline does, each file with a fresh digest, scanner and
 * compressor. One operation is one pass over the chain; the {@code bytes} counter is the
 * throughput in bytes per second, the figure to compare between stages.
 *
 * <p>{@code java -cp "$(bench/classpath.sh)" org.openjdk.jmh.Main ArchiveStages} from the project
 * root (see BENCHMARKS.md).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ArchiveStagesBenchmark {
  private static final int SLICE = 1 << 20;

  private final List<byte[]> files = new ArrayList<>();
  private long chainBytes;

  /** Bytes processed, reported by JMH as a rate next to the operations. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Bytes {
    /** Bytes of binlog processed. */
    public long bytes;
  }

  /** Reads the fixture chain into memory once. */
  @Setup(Level.Trial)
  public void load() {
    for (Path p : BinlogFixtures.chain()) {
      byte[] b = BinlogFixtures.read(p);
      files.add(b);
      chainBytes += b.length;
    }
  }

  /** SHA-256 alone: what every archive pays for the plaintext (and again for the artifact). */
  @Benchmark
  public long sha256(Bytes counter) throws IOException {
    return pass(counter, true, false, false);
  }

  /** The scanner alone. */
  @Benchmark
  public long scanner(Bytes counter) throws IOException {
    return pass(counter, false, true, false);
  }

  /** SHA-256 and the scanner: what the scanner adds to a hashing pass. */
  @Benchmark
  public long sha256AndScanner(Bytes counter) throws IOException {
    return pass(counter, true, true, false);
  }

  /** zstd level 3 alone, one thread. */
  @Benchmark
  public long zstd3(Bytes counter) throws IOException {
    return pass(counter, false, false, true);
  }

  /** SHA-256 and zstd level 3, one thread. */
  @Benchmark
  public long sha256AndZstd3(Bytes counter) throws IOException {
    return pass(counter, true, false, true);
  }

  /** SHA-256, zstd level 3 and the scanner on one thread: the reading thread's whole job if zstd had no workers. */
  @Benchmark
  public long sha256AndZstd3AndScanner(Bytes counter) throws IOException {
    return pass(counter, true, true, true);
  }

  /** One pass over every file of the chain with the chosen stages; returns a value JMH consumes. */
  private long pass(Bytes counter, boolean sha, boolean scan, boolean zstd) throws IOException {
    long result = 0;
    for (byte[] file : files) {
      MessageDigest digest = sha ? sha256() : null;
      BinlogScanner scanner = scan ? new BinlogScanner("bench", true) : null;
      try (OutputStream z = zstd ? new ZstdOutputStream(OutputStream.nullOutputStream(), 3) : OutputStream.nullOutputStream()) {
        for (int off = 0; off < file.length; off += SLICE) {
          int n = Math.min(SLICE, file.length - off);
          if (digest != null) {
            digest.update(file, off, n);
          }
          if (scanner != null) {
            scanner.update(file, off, n);
          }
          z.write(file, off, n);
        }
      }
      if (digest != null) {
        result += digest.digest()[0];
      }
      if (scanner != null) {
        result += scanner.finish().eventCount();
      }
    }
    counter.bytes += chainBytes;
    return result;
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
