package io.binlogarchive.crypto;

import io.binlogarchive.codec.Transform;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Throughput of {@link AesGcmTransform} (1 MiB segments), cold (each direction in a fresh JVM)
 * and warm (after warm-up in this JVM), next to {@code openssl} on the same bytes. Not a test:
 *
 * <pre>
 * java -Xmx2g -cp "$(bench/classpath.sh)" io.binlogarchive.crypto.AesGcmThroughput [megabytes]
 * </pre>
 */
public final class AesGcmThroughput {
  private static final byte[] KEY = CryptoTestSupport.key(99);
  private static final int CHUNK = 1 << 20;

  private static double gcmMbps = Double.NaN;

  private AesGcmThroughput() {}

  /**
   * @param args optional size in MB (default 300); internal modes {@code cold-encrypt FILE} and
   *     {@code cold-decrypt FILE}
   * @throws Exception on any failure
   */
  public static void main(String[] args) throws Exception {
    if (args.length == 2 && args[0].equals("cold-encrypt")) {
      byte[] pt = Files.readAllBytes(Path.of(args[1]));
      System.out.printf("%.0f%n", encryptPass(pt));
      return;
    }
    if (args.length == 2 && args[0].equals("cold-decrypt")) {
      byte[] ct = Files.readAllBytes(Path.of(args[1]));
      System.out.printf("%.0f%n", decryptPass(ct));
      return;
    }
    int mb = args.length > 0 ? Integer.parseInt(args[0]) : 300;
    byte[] pt = new byte[mb * 1_000_000];
    new SplittableRandom(1).nextBytes(pt);
    byte[] ct = encrypt(pt);
    Path dir = Files.createTempDirectory("aesgcm-bench");
    Path ptFile = Files.write(dir.resolve("plain"), pt);
    Path ctFile = Files.write(dir.resolve("cipher"), ct);
    try {
      System.out.printf("java %s, %d MB, segment size %d%n", System.getProperty("java.version"), mb,
          AesGcmTransform.DEFAULT_SEGMENT_SIZE);
      double coldEnc = Double.parseDouble(child("cold-encrypt", ptFile));
      double coldDec = Double.parseDouble(child("cold-decrypt", ctFile));
      for (int i = 0; i < 4; i++) {
        encryptPass(pt);
        decryptPass(ct);
      }
      double[] enc = new double[5];
      double[] dec = new double[5];
      for (int i = 0; i < 5; i++) {
        enc[i] = encryptPass(pt);
        dec[i] = decryptPass(ct);
      }
      Arrays.sort(enc);
      Arrays.sort(dec);
      double ctr = opensslCtr(ptFile, pt.length);
      String speed = opensslSpeed();
      System.out.printf("cold encrypt (fresh JVM, one pass) : %6.0f MB/s%n", coldEnc);
      System.out.printf("cold decrypt (fresh JVM, one pass) : %6.0f MB/s%n", coldDec);
      System.out.printf("warm encrypt (median of 5)         : %6.0f MB/s%n", enc[2]);
      System.out.printf("warm decrypt (median of 5)         : %6.0f MB/s%n", dec[2]);
      System.out.printf("openssl enc -aes-256-ctr, same file: %6.0f MB/s (best of 3, wall clock)%n", ctr);
      System.out.printf("openssl speed -evp aes-256-gcm 1MiB: %s%n", speed);
      System.out.printf("ratio warm encrypt / openssl ctr   : %.2f%n", enc[2] / ctr);
      System.out.printf("ratio warm decrypt / openssl ctr   : %.2f%n", dec[2] / ctr);
      System.out.printf("ratio cold decrypt / openssl ctr   : %.2f%n", coldDec / ctr);
      System.out.printf("ratio warm encrypt / openssl gcm   : %.2f%n", enc[2] / gcmMbps);
      System.out.printf("ratio warm decrypt / openssl gcm   : %.2f%n", dec[2] / gcmMbps);
    } finally {
      Files.deleteIfExists(ptFile);
      Files.deleteIfExists(ctFile);
      Files.deleteIfExists(dir);
    }
  }

  private static AesGcmTransform transform() {
    return Transform.aesGcm(StaticKeyProvider.builder().key("bench", KEY).build());
  }

  private static byte[] encrypt(byte[] pt) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream(pt.length + pt.length / 1000 + 4096);
    try (OutputStream w = transform().wrap(out)) {
      w.write(pt);
    }
    return out.toByteArray();
  }

  /** @return MB/s of plaintext, writing 1 MiB at a time as the pipeline does */
  static double encryptPass(byte[] pt) throws IOException {
    AesGcmTransform t = transform();
    long start = System.nanoTime();
    try (OutputStream w = t.wrap(OutputStream.nullOutputStream())) {
      for (int off = 0; off < pt.length; off += CHUNK) {
        w.write(pt, off, Math.min(CHUNK, pt.length - off));
      }
    }
    return pt.length / 1e6 / ((System.nanoTime() - start) / 1e9);
  }

  /** @return MB/s of plaintext, reading 1 MiB at a time */
  static double decryptPass(byte[] ct) throws IOException {
    AesGcmTransform t = transform();
    byte[] buf = new byte[CHUNK];
    long total = 0;
    long start = System.nanoTime();
    try (InputStream r = t.unwrap(new ByteArrayInputStream(ct))) {
      int n;
      while ((n = r.read(buf)) >= 0) {
        total += n;
      }
    }
    return total / 1e6 / ((System.nanoTime() - start) / 1e9);
  }

  private static String child(String mode, Path file) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p =
        new ProcessBuilder(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                AesGcmThroughput.class.getName(), mode, file.toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (p.waitFor() != 0) {
      throw new IOException(mode + " child failed");
    }
    return out;
  }

  private static double opensslCtr(Path file, long bytes) throws IOException, InterruptedException {
    double best = 0;
    for (int i = 0; i < 3; i++) {
      long start = System.nanoTime();
      run(List.of("openssl", "enc", "-aes-256-ctr", "-K", "00".repeat(32), "-iv", "00".repeat(16),
          "-in", file.toString(), "-out", "/dev/null"));
      best = Math.max(best, bytes / 1e6 / ((System.nanoTime() - start) / 1e9));
    }
    return best;
  }

  private static String opensslSpeed() throws IOException, InterruptedException {
    String out = run(List.of("openssl", "speed", "-evp", "aes-256-gcm", "-bytes", "1048576", "-seconds", "3"));
    for (String line : out.split("\n")) {
      if (line.toLowerCase().startsWith("aes-256-gcm")) {
        String[] f = line.trim().split("\\s+");
        String k = f[f.length - 1].replace("k", "");
        gcmMbps = Double.parseDouble(k) * 1000 / 1e6;
        return String.format("%.0f MB/s (%s)", gcmMbps, line.trim());
      }
    }
    return "not reported";
  }

  private static String run(List<String> cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(new ArrayList<>(cmd)).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed: " + out);
    }
    return out;
  }
}
