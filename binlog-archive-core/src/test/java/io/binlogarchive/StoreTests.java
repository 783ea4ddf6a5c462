package io.binlogarchive;

import java.time.Duration;
import java.util.HexFormat;
import java.util.Random;

/** Helpers shared by the sink tests of every store module (the kit, S3, GCS). */
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
}
