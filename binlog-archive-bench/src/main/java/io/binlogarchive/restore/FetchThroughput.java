package io.binlogarchive.restore;

import io.binlogarchive.Archiver;
import io.binlogarchive.RunSummary;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.crypto.StaticKeyProvider;
import io.binlogarchive.internal.binlog.BinlogNames;
import io.binlogarchive.store.FileSystemSink;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Fetch throughput beside {@code zstd -d} on the same artifact, in the same run.
 *
 * <pre>
 * java -cp "$(bench/classpath.sh)" io.binlogarchive.restore.FetchThroughput /tmp/bench-binlogs/mysql-bin.000001 [rounds]
 * </pre>
 *
 * Archives the binlog (zstd level 3, then zstd 3 + AES-256-GCM) into a temporary local archive,
 * then alternates {@link ArchiveReader#fetch} of that one file (download, decrypt, decompress,
 * SHA-256, write, rename) with {@code zstd -d -f} of the same {@code .zst} artifact to a file
 * (which also checks zstd's own XXH64); and a fetch with {@link
 * ArchiveReader.Builder#syncFetchedFiles(boolean)} with {@code zstd -d} plus an fsync of its
 * output, the like-for-like durable pair. Prints per-round figures and the medians.
 */
public final class FetchThroughput {
  private FetchThroughput() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      throw new IllegalArgumentException("usage: FetchThroughput BINLOG [rounds] (a binlog from bench/gen-binlogs.sh)");
    }
    Path binlog = Path.of(args[0]);
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    Path work = Files.createTempDirectory("fetch-throughput");
    Path src = Files.createDirectories(work.resolve("src"));
    String name = binlog.getFileName().toString();
    Files.createSymbolicLink(src.resolve(name), binlog.toAbsolutePath());
    // a successor file so the binlog counts as closed and not active
    String next = BinlogNames.baseName(name) + String.format(Locale.ROOT, ".%06d", BinlogNames.sequence(name) + 1);
    Files.write(src.resolve(next), Files.readAllBytes(binlog.resolveSibling(next)));
    Files.writeString(src.resolve("mysql-bin.index"), "./" + name + "\n./" + next + "\n");
    long size = Files.size(binlog);
    byte[] key = new byte[32];
    new java.security.SecureRandom().nextBytes(key);
    KeyProvider keys = StaticKeyProvider.builder().key("bench", key).primary("bench").build();
    try {
      for (boolean encrypt : new boolean[] {false, true}) {
        FileSystemSink sink = FileSystemSink.of(work.resolve(encrypt ? "archive-aes" : "archive"));
        try (Archiver a = Archiver.builder().source(BinlogSource.indexFile(src.resolve("mysql-bin.index"))).sink(sink)
            .serverId("bench").cursorFile(work.resolve(encrypt ? "c2.json" : "c1.json"))
            .compression(Transform.zstd(3, 2)).encryption(encrypt ? Transform.aesGcm(keys) : null).build()) {
          RunSummary s = a.runOnce();
          if (s.failure() != null) {
            throw new IllegalStateException(s.failure());
          }
        }
        ArchiveReader reader = ArchiveReader.builder().sink(sink).serverId("bench").keyProvider(keys).allowUnencrypted(!encrypt).parallelism(1)
            .build();
        ArchiveReader syncing = ArchiveReader.builder().sink(sink).serverId("bench").keyProvider(keys).allowUnencrypted(!encrypt).parallelism(1)
            .syncFetchedFiles(true).build();
        RestorePlan plan = reader.planFrom(name, 4, RestoreTarget.latest());
        Sidecar sc = plan.files().get(0);
        Path zst = work.resolve("plain.zst");
        if (!encrypt) {
          Files.copy(sink.root().resolve(sc.artifact().key()), zst);
        }
        List<Long> fetchNs = new ArrayList<>();
        List<Long> zstdNs = new ArrayList<>();
        List<Long> zstdSyncNs = new ArrayList<>();
        List<Long> fetchSyncNs = new ArrayList<>();
        Path out = work.resolve("out");
        for (int r = 0; r < rounds + 1; r++) {
          deleteTree(out);
          long t0 = System.nanoTime();
          FetchResult f = reader.fetch(plan, out);
          long t1 = System.nanoTime();
          if (f.fetched() != 1) {
            throw new IllegalStateException("expected one fetched file");
          }
          Path z = work.resolve("zstd-out");
          Files.deleteIfExists(z);
          long t2 = System.nanoTime();
          Process p = new ProcessBuilder("zstd", "-q", "-d", "-f", zst.toString(), "-o", z.toString()).inheritIO().start();
          if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("zstd -d failed");
          }
          long t3 = System.nanoTime();
          try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(z, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
          }
          long t4 = System.nanoTime();
          deleteTree(out);
          long t5 = System.nanoTime();
          if (syncing.fetch(plan, out).fetched() != 1) {
            throw new IllegalStateException("expected one fetched file");
          }
          long t6 = System.nanoTime();
          if (r > 0) { // round 0 warms the JIT and page cache
            fetchNs.add(t1 - t0);
            zstdNs.add(t3 - t2);
            zstdSyncNs.add(t4 - t2);
            fetchSyncNs.add(t6 - t5);
          }
          System.out.printf(Locale.ROOT, "%s round %d: fetch %.1f MB/s, zstd -d %.1f MB/s, fetch --sync %.1f MB/s,"
                  + " zstd -d + fsync %.1f MB/s%n",
              encrypt ? "zstd+aes" : "zstd", r, size / 1e6 / ((t1 - t0) / 1e9), size / 1e6 / ((t3 - t2) / 1e9),
              size / 1e6 / ((t6 - t5) / 1e9), size / 1e6 / ((t4 - t2) / 1e9));
        }
        double f = size / 1e6 / (median(fetchNs) / 1e9);
        double z = size / 1e6 / (median(zstdNs) / 1e9);
        double zs = size / 1e6 / (median(zstdSyncNs) / 1e9);
        double fs = size / 1e6 / (median(fetchSyncNs) / 1e9);
        System.out.printf(Locale.ROOT,
            "RESULT %s: %s %.1f MB (artifact %.1f MB), medians of %d rounds: fetch %.1f MB/s / zstd -d %.1f MB/s"
                + " = %.2fx; fetch --sync %.1f MB/s / (zstd -d + fsync) %.1f MB/s = %.2fx%n",
            encrypt ? "zstd-3+aes-256-gcm" : "zstd-3", name, size / 1e6, sc.artifact().size() / 1e6, rounds, f, z,
            f / z, fs, zs, fs / zs);
      }
    } finally {
      deleteTree(work);
    }
  }

  static double median(List<Long> v) {
    long[] a = v.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(a);
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2.0;
  }

  static void deleteTree(Path p) throws java.io.IOException {
    if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var walk = Files.walk(p)) {
      for (Path x : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }
}
