package io.binlogarchive.internal.pipeline;

import io.binlogarchive.RetryPolicy;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A token bucket shared by every upload of one archiver, so that all files in flight together stay
 * under {@code bytesPerSecond}. Bursts up to {@code burstBytes}; beyond that, writers wait. Time
 * and waiting are injected so tests never sleep.
 */
public final class TokenBucket {
  private final long bytesPerSecond;
  private final long burstBytes;
  private final LongSupplier nanoTime;
  private final RetryPolicy.Sleeper sleeper;
  private double tokens;
  private long last;

  public TokenBucket(long bytesPerSecond, long burstBytes, LongSupplier nanoTime, RetryPolicy.Sleeper sleeper) {
    if (bytesPerSecond <= 0 || burstBytes <= 0) {
      throw new IllegalArgumentException("rate and burst must be positive");
    }
    this.bytesPerSecond = bytesPerSecond;
    this.burstBytes = burstBytes;
    this.nanoTime = nanoTime;
    this.sleeper = sleeper;
    this.last = nanoTime.getAsLong();
    this.tokens = burstBytes;
  }

  public static TokenBucket of(long bytesPerSecond) {
    // a quarter second of burst keeps the rate smooth at the scale a network link sees
    return new TokenBucket(bytesPerSecond, Math.max(64 << 10, bytesPerSecond / 4), System::nanoTime,
        d -> Thread.sleep(d.toMillis(), d.toNanosPart() % 1_000_000));
  }

  long bytesPerSecond() {
    return bytesPerSecond;
  }

  /** Takes {@code n} tokens, waiting (outside the lock) for as long as the bucket is in debt. */
  void take(long n) throws InterruptedIOException {
    long waitNanos;
    synchronized (this) {
      long now = nanoTime.getAsLong();
      tokens = Math.min(burstBytes, tokens + (now - last) * (double) bytesPerSecond / 1e9);
      last = now;
      tokens -= n;
      waitNanos = tokens >= 0 ? 0 : (long) Math.ceil(-tokens * 1e9 / bytesPerSecond);
    }
    if (waitNanos > 0) {
      try {
        sleeper.sleep(Duration.ofNanos(waitNanos));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting for upload bandwidth");
      }
    }
  }
}
