package io.binlogarchive.testing;

import io.binlogarchive.RetryPolicy;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.internal.Digests;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;

/** Helpers shared by the tests of every store module (the sink kit, S3, GCS, their key providers). */
public final class StoreTests {
  private StoreTests() {}

  /**
   * @param attempts attempts per call, at least 1
   * @return a policy with real attempts whose backoff is computed but never slept, so injected
   *     faults cost no waiting
   */
  public static RetryPolicy noSleepRetries(int attempts) {
    return RetryPolicy.builder()
        .maxAttempts(attempts)
        .initialBackoff(Duration.ofMillis(1))
        .maxBackoff(Duration.ofMillis(2))
        .sleeper(d -> {})
        .build();
  }

  /**
   * @param size bytes
   * @param seed the same seed gives the same bytes
   * @return pseudo-random (incompressible) bytes
   */
  public static byte[] payload(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  /**
   * @param b bytes
   * @return their SHA-256, lowercase hex
   */
  public static String sha256(byte[] b) {
    return HexFormat.of().formatHex(Digests.sha256().digest(b));
  }

  /**
   * @param t a transform, e.g. {@code Transform.aesGcm(keys)}
   * @param plaintext bytes
   * @return what {@code t} writes for them, its frame finished
   * @throws IOException if the transform fails (e.g. its key provider)
   */
  public static byte[] encode(Transform t, byte[] plaintext) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream w = t.wrap(out)) {
      w.write(plaintext);
    }
    return out.toByteArray();
  }

  /**
   * @param t the transform that wrote {@code artifact}
   * @param artifact what {@link #encode(Transform, byte[])} returned
   * @return the bytes it decodes to
   * @throws IOException if it cannot be decoded
   */
  public static byte[] decode(Transform t, byte[] artifact) throws IOException {
    try (InputStream in = t.unwrap(new ByteArrayInputStream(artifact))) {
      return in.readAllBytes();
    }
  }
}
