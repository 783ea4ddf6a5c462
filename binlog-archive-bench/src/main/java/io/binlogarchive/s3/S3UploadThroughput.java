package io.binlogarchive.s3;

import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.SinkWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;

/**
 * Uploads the same ~100 MB payload to an embedded s3proxy on loopback through {@link S3Sink} and
 * with the plain SDK (one PutObject; a multipart upload with the same part size and parallelism),
 * and prints MB/s and the ratios. The payload is random bytes, standing in for compressed (or
 * encrypted) binlogs, which do not compress further.
 *
 * <p>{@code java -Xmx2g -cp ... io.binlogarchive.s3.S3UploadThroughput [MiB] [rounds]}
 */
final class S3UploadThroughput {
  private S3UploadThroughput() {}

  /** @param args payload size in MiB (default 100) and number of measured rounds (default 5) */
  public static void main(String[] args) throws Exception {
    int mib = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int partSize = S3Sink.DEFAULT_PART_SIZE;
    int threads = 4;
    byte[] data = new byte[mib * 1024 * 1024];
    new Random(42).nextBytes(data);

    try (S3ProxyServer server = new S3ProxyServer();
        S3Client client = S3ProxyServer.client(server.ensureStarted(), Duration.ofMinutes(5))) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        String bucket = server.newBucket("throughput");
        S3Sink sink =
            S3Sink.builder().client(client).bucket(bucket).executor(pool).partSize(partSize)
                .maxPartsInFlight(threads).retryPolicy(RetryPolicy.none()).build();
        List<Double> sinkMbs = new ArrayList<>();
        List<Double> putMbs = new ArrayList<>();
        List<Double> mpuMbs = new ArrayList<>();
        for (int round = 0; round <= rounds; round++) { // round 0 warms up and is not counted
          String suffix = "-" + round;
          double s = mbPerSecond(data.length, () -> {
            try (SinkWriter w = sink.create("sink" + suffix, Map.of())) {
              for (int off = 0; off < data.length; off += 1 << 20) {
                w.write(data, off, Math.min(1 << 20, data.length - off)); // 1 MiB writes, as the pipeline does
              }
              w.commit();
            }
          });
          double p = mbPerSecond(data.length, () ->
              client.putObject(r -> r.bucket(bucket).key("put" + suffix), RequestBody.fromBytes(data)));
          double m = mbPerSecond(data.length, () -> plainMultipart(client, pool, bucket, "mpu" + suffix, data, partSize));
          // the in-memory store keeps every object: free them outside the timed sections
          for (String k : List.of("sink" + suffix, "put" + suffix, "mpu" + suffix)) {
            client.deleteObject(r -> r.bucket(bucket).key(k));
          }
          if (round > 0) {
            sinkMbs.add(s);
            putMbs.add(p);
            mpuMbs.add(m);
          }
          System.out.printf("round %d: S3Sink %.0f MB/s, SDK PutObject %.0f MB/s, SDK multipart %.0f MB/s%n", round, s, p, m);
        }
        double sm = median(sinkMbs);
        double pm = median(putMbs);
        double mm = median(mpuMbs);
        System.out.printf(
            "payload %d MiB, part size %d MiB, %d parts in flight; medians of %d rounds:%n"
                + "  S3Sink (SHA-256 per part, If-None-Match, HeadObject proof) %.0f MB/s%n"
                + "  plain SDK PutObject (SDK default CRC32 checksum)         %.0f MB/s%n"
                + "  plain SDK multipart, same parts and parallelism         %.0f MB/s%n"
                + "  S3Sink / SDK multipart = %.2f, S3Sink / SDK PutObject = %.2f%n",
            mib, partSize >> 20, threads, rounds, sm, pm, mm, sm / mm, sm / pm);
      } finally {
        pool.shutdownNow();
      }
    }
  }

  interface Run {
    void run() throws Exception;
  }

  static double mbPerSecond(long bytes, Run run) throws Exception {
    long t0 = System.nanoTime();
    run.run();
    long t1 = System.nanoTime();
    return bytes / 1e6 / ((t1 - t0) / 1e9);
  }

  static void plainMultipart(S3Client client, ExecutorService pool, String bucket, String key, byte[] data, int partSize) {
    String id = client.createMultipartUpload(r -> r.bucket(bucket).key(key)).uploadId();
    List<CompletableFuture<CompletedPart>> parts = new ArrayList<>();
    for (int n = 1, off = 0; off < data.length; n++, off += partSize) {
      int number = n;
      int from = off;
      int len = Math.min(partSize, data.length - off);
      parts.add(CompletableFuture.supplyAsync(() -> {
        String etag = client.uploadPart(r -> r.bucket(bucket).key(key).uploadId(id).partNumber(number),
            RequestBody.fromBytes(Arrays.copyOfRange(data, from, from + len))).eTag();
        return CompletedPart.builder().partNumber(number).eTag(etag).build();
      }, pool));
    }
    List<CompletedPart> done = parts.stream().map(CompletableFuture::join).toList();
    client.completeMultipartUpload(r -> r.bucket(bucket).key(key).uploadId(id).multipartUpload(m -> m.parts(done)));
  }

  static double median(List<Double> xs) {
    List<Double> s = new ArrayList<>(xs);
    s.sort(null);
    int n = s.size();
    return n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
  }
}
