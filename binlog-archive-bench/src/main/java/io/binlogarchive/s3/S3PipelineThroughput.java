package io.binlogarchive.s3;

import io.binlogarchive.store.FileSystemSink;
import com.github.luben.zstd.Zstd;
import io.binlogarchive.Archiver;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.RunSummary;
import io.binlogarchive.codec.Transform;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The whole archive pipeline (read, scan, hash, zstd-3, hash, multipart upload with SHA-256 per
 * part, conditional commit, HeadObject proof, sidecar, cursor) of one real binlog into an embedded
 * s3proxy on loopback, beside a plain SDK upload of the same file already compressed with zstd -3,
 * in the same run. Prints MB/s of binlog and the ratio.
 *
 * <p>{@code java -Xmx2g [-Dlevel=3] [-DpartSize=BYTES] [-DlocalOnly=true] -cp ...
 * io.binlogarchive.s3.S3PipelineThroughput BINLOG [rounds]}: {@code level} is the zstd level of
 * both the pipeline and the precompressed reference; {@code localOnly} also times the same
 * pipeline into a local directory (no upload). Each phase also prints the process CPU time it
 * took (client, pipeline and the embedded server together), which shows when the machine's cores,
 * not the pipeline, set the pace. {@code bench/s3-pipeline.sh} runs it, optionally behind a
 * bandwidth limit on loopback.
 */
final class S3PipelineThroughput {
  private S3PipelineThroughput() {}

  /** CPU time of the whole process (client, pipeline and the embedded server alike), in ns. */
  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** @param args a binlog file (e.g. from bench/gen-binlogs.sh) and the number of measured rounds */
  public static void main(String[] args) throws Exception {
    Path binlog = Path.of(args[0]);
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    Path work = Files.createTempDirectory("s3-pipeline");
    Path dir = Files.createDirectories(work.resolve("binlogs"));
    Files.copy(binlog, dir.resolve("mysql-bin.000001"));
    Files.writeString(dir.resolve("mysql-bin.index"), "./mysql-bin.000001\n./mysql-bin.000002\n");
    long size = Files.size(binlog);
    int level = Integer.getInteger("level", 3);
    int partSize = Integer.getInteger("partSize", S3Sink.DEFAULT_PART_SIZE);
    byte[] compressed = Zstd.compress(Files.readAllBytes(binlog), level); // what `zstd -LEVEL` would upload
    int threads = 4;
    try (S3ProxyServer server = new S3ProxyServer();
        S3Client client = S3ProxyServer.client(server.ensureStarted(), Duration.ofMinutes(5))) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        String bucket = server.newBucket("pipeline");
        List<Double> pipeline = new ArrayList<>();
        List<Double> plain = new ArrayList<>();
        List<Double> twoStep = new ArrayList<>();
        for (int round = 0; round <= rounds; round++) { // round 0 warms up
          String prefix = "r" + round;
          S3Sink sink = S3Sink.builder().client(client).bucket(bucket).prefix(prefix).executor(pool)
              .maxPartsInFlight(threads).partSize(partSize).retryPolicy(RetryPolicy.none()).build();
          if (Boolean.getBoolean("localOnly")) {
            long l0 = System.nanoTime();
            try (Archiver archiver = Archiver.builder().source(BinlogSource.directory(dir))
                .sink(io.binlogarchive.store.FileSystemSink.of(work.resolve("fs-" + round))).serverId("db1")
                .compression(Transform.zstd(level, 2)).cursorFile(work.resolve("fs-cursor-" + round + ".json")).build()) {
              archiver.runOnce();
            }
            System.out.printf("round %d: pipeline to a local directory %.0f ms%n", round, (System.nanoTime() - l0) / 1e6);
          }
          Path cursor = work.resolve("cursor-" + round + ".json");
          long c0 = cpuNanos();
          long t0 = System.nanoTime();
          try (Archiver archiver = Archiver.builder().source(BinlogSource.directory(dir)).sink(sink).serverId("db1")
              .compression(Transform.zstd(level, 2)).cursorFile(cursor).build()) {
            RunSummary s = archiver.runOnce();
            if (!s.succeeded() || s.archivedCount() != 1) {
              throw new IllegalStateException("archive failed", s.failure());
            }
          }
          long t1 = System.nanoTime();
          long c1 = cpuNanos();
          S3UploadThroughput.plainMultipart(client, pool, bucket, prefix + "-plain.zst", compressed, partSize);
          long t2 = System.nanoTime();
          long c2 = cpuNanos();
          // the same job done the plain way: compress the file (zstd -3, 2 workers), then upload it
          java.io.ByteArrayOutputStream zst = new java.io.ByteArrayOutputStream((int) (size / 2));
          try (java.io.OutputStream z = Transform.zstd(level, 2).wrap(zst)) {
            Files.copy(dir.resolve("mysql-bin.000001"), z);
          }
          S3UploadThroughput.plainMultipart(client, pool, bucket, prefix + "-twostep.zst", zst.toByteArray(), partSize);
          long t3 = System.nanoTime();
          long c3 = cpuNanos();
          double p = size / 1e6 / ((t1 - t0) / 1e9);
          double q = size / 1e6 / ((t2 - t1) / 1e9);
          double r = size / 1e6 / ((t3 - t2) / 1e9);
          System.out.printf("round %d: pipeline %.0f MB/s of binlog (%.0f ms, %.0f ms CPU), plain upload of the .zst"
                  + " %.0f MB/s (%.0f ms, %.0f ms CPU), compress then plain upload %.0f MB/s (%.0f ms, %.0f ms CPU)%n",
              round, p, (t1 - t0) / 1e6, (c1 - c0) / 1e6, q, (t2 - t1) / 1e6, (c2 - c1) / 1e6, r, (t3 - t2) / 1e6,
              (c3 - c2) / 1e6);
          if (round > 0) {
            pipeline.add(p);
            plain.add(q);
            twoStep.add(r);
          }
        }
        double pm = S3UploadThroughput.median(pipeline);
        double qm = S3UploadThroughput.median(plain);
        double rm = S3UploadThroughput.median(twoStep);
        System.out.printf("%s: %.1f MB binlog, %.1f MB compressed (zstd level %d, %d MiB parts); medians of %d rounds"
                + " (MB/s of binlog):%n"
                + "  archive pipeline to S3Sink                                    %.0f%n"
                + "  plain SDK multipart upload of the precompressed file          %.0f  (pipeline / this = %.2f)%n"
                + "  zstd -%d (2 workers) to memory, then plain multipart upload    %.0f  (pipeline / this = %.2f)%n",
            binlog, size / 1e6, compressed.length / 1e6, level, partSize >> 20, rounds, pm, qm, pm / qm, level, rm,
            pm / rm);
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
