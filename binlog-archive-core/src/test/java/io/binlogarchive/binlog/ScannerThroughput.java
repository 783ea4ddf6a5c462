package io.binlogarchive.binlog;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Measures what the scanner adds to the archive pass: SHA-256 alone versus SHA-256 plus the
 * scanner (and the scanner alone, and SHA-256 + zstd level 3 with and without the scanner), over the same bytes in the same run, fed in 1 MiB slices as the pipeline does.
 *
 * <p>The 13-file MariaDB chain (about 13 MB) is repeated in memory to about 100 MB; each repetition
 * scans each file with a fresh scanner. Rounds alternate between the two modes after a warm-up and
 * the medians are reported.
 *
 * <p>Run: {@code mvn -o -q -pl binlog-archive-core test-compile} then {@code java -cp
 * binlog-archive-core/target/test-classes:binlog-archive-core/target/classes:$(cat cp.txt)
 * io.binlogarchive.binlog.ScannerThroughput [rounds]} with {@code cp.txt} from {@code mvn -o -q -pl
 * binlog-archive-core dependency:build-classpath -Dmdep.outputFile=cp.txt}.
 */
public final class ScannerThroughput {
  private static final int SLICE = 1 << 20;

  private ScannerThroughput() {}

  /**
   * Runs the measurement and prints MB/s for both modes and the scanner's overhead.
   *
   * @param args optional number of measured rounds per mode (default 7)
   * @throws Exception if the fixtures cannot be read
   */
  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
    List<byte[]> files = new ArrayList<>();
    long chainBytes = 0;
    for (Path p : BinlogFixtures.chain()) {
      byte[] b = BinlogFixtures.read(p);
      files.add(b);
      chainBytes += b.length;
    }
    int repeats = (int) Math.max(1, (100L << 20) / chainBytes);
    long total = chainBytes * repeats;
    System.out.printf("input: %d files x %d repetitions = %.1f MB (1 MiB slices)%n", files.size(), repeats, total / 1e6);

    for (int w = 0; w < 3; w++) {
      pass(files, repeats, false);
      pass(files, repeats, true);
    }
    double[] sha = new double[rounds];
    double[] both = new double[rounds];
    double[] alone = new double[rounds];
    for (int i = 0; i < rounds; i++) {
      sha[i] = total / 1e6 / pass(files, repeats, false);
      both[i] = total / 1e6 / pass(files, repeats, true);
      alone[i] = total / 1e6 / scanOnly(files, repeats);
    }
    Arrays.sort(sha);
    Arrays.sort(both);
    Arrays.sort(alone);
    double[] zstd = new double[rounds];
    double[] zstdScan = new double[rounds];
    for (int i = 0; i < rounds; i++) {
      zstd[i] = total / 1e6 / zstdPass(files, repeats, false);
      zstdScan[i] = total / 1e6 / zstdPass(files, repeats, true);
    }
    Arrays.sort(zstd);
    Arrays.sort(zstdScan);
    double a = sha[rounds / 2];
    double b = both[rounds / 2];
    System.out.printf("(a) SHA-256 only:           median %.0f MB/s (min %.0f, max %.0f)%n", a, sha[0], sha[rounds - 1]);
    System.out.printf("(b) SHA-256 + BinlogScanner: median %.0f MB/s (min %.0f, max %.0f)%n", b, both[0], both[rounds - 1]);
    System.out.printf("(c) BinlogScanner alone:     median %.0f MB/s (min %.0f, max %.0f)%n", alone[rounds / 2], alone[0], alone[rounds - 1]);
    System.out.printf("scanner adds %.1f%% to the time of a SHA-256 pass%n", (a / b - 1) * 100);
    double z = zstd[rounds / 2];
    double zs = zstdScan[rounds / 2];
    System.out.printf("(d) SHA-256 + zstd-3:                 median %.0f MB/s (min %.0f, max %.0f)%n", z, zstd[0], zstd[rounds - 1]);
    System.out.printf("(e) SHA-256 + zstd-3 + BinlogScanner: median %.0f MB/s (min %.0f, max %.0f)%n", zs, zstdScan[0], zstdScan[rounds - 1]);
    System.out.printf("scanner adds %.1f%% to the time of a SHA-256 + zstd-3 pass (one thread)%n", (z / zs - 1) * 100);
  }

  /** SHA-256 and zstd level 3 (one thread, output discarded), with or without the scanner; returns seconds. */
  private static double zstdPass(List<byte[]> files, int repeats, boolean scan) throws Exception {
    long start = System.nanoTime();
    long sink = 0;
    for (int rep = 0; rep < repeats; rep++) {
      for (byte[] file : files) {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        BinlogScanner scanner = scan ? new BinlogScanner("bench", true) : null;
        try (OutputStream z = new ZstdOutputStream(OutputStream.nullOutputStream(), 3)) {
          for (int off = 0; off < file.length; off += SLICE) {
            int n = Math.min(SLICE, file.length - off);
            sha.update(file, off, n);
            if (scanner != null) {
              scanner.update(file, off, n);
            }
            z.write(file, off, n);
          }
        }
        sink += sha.digest()[0];
        if (scanner != null) {
          sink += scanner.finish().eventCount();
        }
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (sink == 42) {
      System.out.print("");
    }
    return seconds;
  }

  /** The scanner without hashing; returns seconds. */
  private static double scanOnly(List<byte[]> files, int repeats) {
    long start = System.nanoTime();
    long sink = 0;
    for (int rep = 0; rep < repeats; rep++) {
      for (byte[] file : files) {
        BinlogScanner scanner = new BinlogScanner("bench", true);
        for (int off = 0; off < file.length; off += SLICE) {
          scanner.update(file, off, Math.min(SLICE, file.length - off));
        }
        sink += scanner.finish().eventCount();
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (sink == 42) {
      System.out.print("");
    }
    return seconds;
  }

  /** One pass over every repetition of every file; returns seconds. */
  private static double pass(List<byte[]> files, int repeats, boolean scan) throws Exception {
    long start = System.nanoTime();
    long sink = 0;
    for (int rep = 0; rep < repeats; rep++) {
      for (byte[] file : files) {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        BinlogScanner scanner = scan ? new BinlogScanner("bench", true) : null;
        for (int off = 0; off < file.length; off += SLICE) {
          int n = Math.min(SLICE, file.length - off);
          sha.update(file, off, n);
          if (scanner != null) {
            scanner.update(file, off, n);
          }
        }
        sink += sha.digest()[0];
        if (scanner != null) {
          sink += scanner.finish().eventCount();
        }
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (sink == 42) {
      System.out.print("");
    }
    return seconds;
  }
}
