package io.binlogarchive;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.store.FileSystemSink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The scanner's cost inside the real archive pipeline: archives the same binlogs with the event
 * scan on and off, alternately, in one JVM (zstd-3 with two workers, local sink, fsync included),
 * and prints medians and the overhead.
 *
 * <p>{@code java -cp "$(bench/classpath.sh)" io.binlogarchive.PipelineScannerOverhead BINLOG_DIR [rounds]} (a directory
 * from bench/gen-binlogs.sh)
 */
final class PipelineScannerOverhead {
  private PipelineScannerOverhead() {}

  /** @param args binlog directory with its index, and rounds (default 5) */
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    List<Double> on = new ArrayList<>();
    List<Double> off = new ArrayList<>();
    for (int round = 0; round <= rounds; round++) { // round 0 warms up
      for (boolean scan : new boolean[] {true, false}) {
        Path work = Files.createTempDirectory("scan-overhead");
        long t0 = System.nanoTime();
        long bytes;
        try (Archiver archiver = Archiver.builder().source(BinlogSource.directory(dir))
            .sink(FileSystemSink.of(work.resolve("archive"))).serverId("db1")
            .compression(Transform.zstd(3, 2)).cursorFile(work.resolve("cursor.json"))
            .scanEventsForBenchmark(scan).build()) {
          RunSummary s = archiver.runOnce();
          if (!s.succeeded()) {
            throw new IllegalStateException(s.failure());
          }
          bytes = s.bytesRead();
        }
        double mbs = bytes / 1e6 / ((System.nanoTime() - t0) / 1e9);
        try (Stream<Path> w = Files.walk(work)) {
          w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
        if (round > 0) {
          (scan ? on : off).add(mbs);
        }
        System.out.printf("round %d, scan %s: %.0f MB/s%n", round, scan ? "on " : "off", mbs);
      }
    }
    on.sort(null);
    off.sort(null);
    double m1 = on.get(on.size() / 2);
    double m0 = off.get(off.size() / 2);
    System.out.printf("pipeline with scanner %.0f MB/s, without %.0f MB/s: the scanner adds %.1f%% to the archive time%n",
        m1, m0, (m0 / m1 - 1) * 100);
  }
}
