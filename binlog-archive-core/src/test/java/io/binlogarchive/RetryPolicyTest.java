package io.binlogarchive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.SocketTimeoutException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

@DisplayName("RetryPolicy")
class RetryPolicyTest {

  /** A clock that only moves when the fake sleeper sleeps. */
  static final class FakeTime extends Clock {
    long millis;
    final List<Duration> sleeps = new ArrayList<>();

    void sleep(Duration d) {
      sleeps.add(d);
      millis += d.toMillis();
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis);
    }
  }

  final FakeTime time = new FakeTime();

  RetryPolicy.Builder policy() {
    return RetryPolicy.builder().clock(time).sleeper(time::sleep).random(() -> 0.5);
  }

  static StoreException transientError(int n) {
    return new StoreException("throttled #" + n, true, null);
  }

  /** A call that fails with transient errors the first {@code failures} times. */
  static final class Flaky implements RetryPolicy.IoCall<String> {
    final int failures;
    final AtomicInteger calls = new AtomicInteger();

    Flaky(int failures) {
      this.failures = failures;
    }

    @Override
    public String call() {
      int n = calls.incrementAndGet();
      if (n <= failures) {
        throw transientError(n);
      }
      return "ok after " + n;
    }
  }

  @Nested
  @DisplayName("attempts")
  class Attempts {
    @Test
    @DisplayName("returns the result of the first success after transient failures")
    void succeedsAfterTransientFailures() throws IOException {
      Flaky call = new Flaky(3);
      assertThat(policy().maxAttempts(4).build().call("put x", call)).isEqualTo("ok after 4");
      assertThat(call.calls).hasValue(4);
      assertThat(time.sleeps).hasSize(3);
    }

    @Test
    @DisplayName("gives up after maxAttempts and rethrows the last error with the earlier ones suppressed, in order")
    void givesUpWithSuppressed() {
      Flaky call = new Flaky(100);
      assertThatThrownBy(() -> policy().maxAttempts(4).build().call("put x", call))
          .isInstanceOf(StoreException.class)
          .hasMessage("throttled #4")
          .satisfies(e -> assertThat(e.getSuppressed()).extracting(Throwable::getMessage)
              .containsExactly("throttled #1", "throttled #2", "throttled #3"));
      assertThat(call.calls).hasValue(4);
      assertThat(time.sleeps).hasSize(3);
    }

    @Test
    @DisplayName("tries a fatal error exactly once, without waiting")
    void fatalOnce() {
      AtomicInteger calls = new AtomicInteger();
      assertThatThrownBy(() -> policy().build().call("put x", () -> {
        calls.incrementAndGet();
        throw new StoreException("access denied", false, null);
      })).isInstanceOf(StoreException.class).hasMessage("access denied");
      assertThat(calls).hasValue(1);
      assertThat(time.sleeps).isEmpty();
    }

    @Test
    @DisplayName("none() tries once even for a transient error")
    void none() {
      Flaky call = new Flaky(1);
      assertThatThrownBy(() -> RetryPolicy.none().call("put x", call)).hasMessage("throttled #1");
      assertThat(call.calls).hasValue(1);
    }

    @Test
    @DisplayName("stops before a wait that would exceed the time budget")
    void budget() {
      // random 0 gives the low end of the jitter: waits of 1, 2, 4, 8 s for backoffs of 2, 4, 8, 16 s
      Flaky call = new Flaky(100);
      RetryPolicy p = policy().random(() -> 0.0).maxAttempts(100).maxElapsed(Duration.ofSeconds(10)).build();
      assertThatThrownBy(() -> p.call("put x", call)).isInstanceOf(StoreException.class);
      // failures at t=0, 1, 3, 7; the next wait (8 s) would end at 15 s > 10 s
      assertThat(call.calls).hasValue(4);
      assertThat(time.sleeps).containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4));
      assertThat(time.millis).isLessThanOrEqualTo(10_000);
    }

    @Test
    @DisplayName("tells the observer of each retry before waiting, and survives an observer that throws")
    void observer() throws IOException {
      List<String> seen = new ArrayList<>();
      String r = policy().build().call("put x", new Flaky(2), (what, attempt, delay, error) -> {
        seen.add(what + " " + attempt + " " + delay.toMillis() + " " + error.getMessage() + " slept " + time.sleeps.size());
        throw new IllegalStateException("observer bug");
      });
      assertThat(r).isEqualTo("ok after 3");
      assertThat(seen).containsExactly("put x 1 1500 throttled #1 slept 0", "put x 2 3000 throttled #2 slept 1");
    }

    @Test
    @DisplayName("an interrupted wait ends the retries with an InterruptedIOException and keeps the interrupt flag")
    void interrupted() {
      RetryPolicy p = policy().sleeper(d -> {
        throw new InterruptedException();
      }).build();
      try {
        assertThatThrownBy(() -> p.call("put x", new Flaky(5)))
            .isInstanceOf(InterruptedIOException.class)
            .hasMessageContaining("put x")
            .hasCauseInstanceOf(StoreException.class);
        assertThat(Thread.currentThread().isInterrupted()).isTrue();
      } finally {
        Thread.interrupted();
      }
    }
  }

  @Nested
  @DisplayName("backoff")
  class Backoff {
    @Test
    @DisplayName("doubles from 2 s and is capped at 60 s (defaults)")
    void growsAndCaps() {
      RetryPolicy p = RetryPolicy.builder().random(() -> 0.999_999).build();
      long[] expectedCapMs = {2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000};
      for (int attempt = 1; attempt <= expectedCapMs.length; attempt++) {
        assertThat(p.backoff(attempt).toMillis()).as("after attempt %d", attempt)
            .isBetween(expectedCapMs[attempt - 1] - 1, expectedCapMs[attempt - 1]);
      }
      assertThat(p.backoff(10_000)).as("no overflow far out").isEqualTo(p.backoff(9));
    }

    @Test
    @DisplayName("jitter stays within [backoff/2, backoff] for any random value")
    void jitterBounds() {
      Random r = new Random(42);
      RetryPolicy low = RetryPolicy.builder().random(() -> 0.0).build();
      for (int i = 0; i < 1000; i++) {
        double u = r.nextDouble();
        RetryPolicy p = RetryPolicy.builder().random(() -> u).build();
        int attempt = 1 + r.nextInt(10);
        long capped = Math.min(2_000L << (attempt - 1), 60_000L);
        assertThat(p.backoff(attempt).toMillis()).isBetween(capped / 2, capped);
        assertThat(p.backoff(attempt)).isGreaterThanOrEqualTo(low.backoff(attempt));
      }
      assertThat(low.backoff(1)).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    @DisplayName("uses the configured initial backoff, multiplier and cap")
    void configured() {
      RetryPolicy p = RetryPolicy.builder().random(() -> 0.0).initialBackoff(Duration.ofMillis(100))
          .multiplier(3).maxBackoff(Duration.ofMillis(1000)).build();
      assertThat(List.of(p.backoff(1), p.backoff(2), p.backoff(3), p.backoff(4)))
          .containsExactly(Duration.ofMillis(50), Duration.ofMillis(150), Duration.ofMillis(450), Duration.ofMillis(500));
    }
  }

  @Nested
  @DisplayName("builder")
  class Builder {
    @Test
    @DisplayName("rejects bad settings at once, naming them")
    void rejectsBadSettings() {
      assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(0)).hasMessageContaining("maxAttempts");
      assertThatThrownBy(() -> RetryPolicy.builder().initialBackoff(Duration.ZERO)).hasMessageContaining("initialBackoff");
      assertThatThrownBy(() -> RetryPolicy.builder().maxBackoff(Duration.ofSeconds(-1))).hasMessageContaining("maxBackoff");
      assertThatThrownBy(() -> RetryPolicy.builder().maxElapsed(Duration.ZERO)).hasMessageContaining("maxElapsed");
      assertThatThrownBy(() -> RetryPolicy.builder().multiplier(0.5)).hasMessageContaining("multiplier");
      assertThatThrownBy(() -> RetryPolicy.builder().multiplier(Double.NaN)).hasMessageContaining("multiplier");
      assertThatThrownBy(() -> RetryPolicy.builder().initialBackoff(Duration.ofMinutes(2)).build())
          .hasMessageContaining("exceeds maxBackoff");
    }

    @Test
    @DisplayName("defaults to 8 attempts")
    void defaults() {
      assertThat(RetryPolicy.defaults().maxAttempts()).isEqualTo(8);
    }
  }

  @Test
  @DisplayName("by default retries transient store and I/O errors, never integrity, chain-break, missing-file or denied errors")
  void defaultPredicate() {
    assertThat(RetryPolicy.isRetryableByDefault(new StoreException("503", true, null))).isTrue();
    assertThat(RetryPolicy.isRetryableByDefault(new IOException("connection reset"))).isTrue();
    assertThat(RetryPolicy.isRetryableByDefault(new SocketTimeoutException("read timed out"))).isTrue();
    assertThat(RetryPolicy.isRetryableByDefault(new StoreException("403", false, null))).isFalse();
    assertThat(RetryPolicy.isRetryableByDefault(new IntegrityException("bad tag"))).isFalse();
    assertThat(RetryPolicy.isRetryableByDefault(new ChainBreakException("differs"))).isFalse();
    assertThat(RetryPolicy.isRetryableByDefault(new NotFoundException("gone"))).isFalse();
    assertThat(RetryPolicy.isRetryableByDefault(new NoSuchFileException("/x"))).isFalse();
    assertThat(RetryPolicy.isRetryableByDefault(new FileNotFoundException("/x"))).isFalse();
    assertThat(RetryPolicy.isRetryableByDefault(new AccessDeniedException("/x"))).isFalse();
    assertThat(RetryPolicy.isRetryableByDefault(new InterruptedIOException())).isFalse();
    assertThat(RetryPolicy.isRetryableByDefault(new IOException("wrapped", new IntegrityException("bad")))).isFalse();
    assertThat(RetryPolicy.isRetryableByDefault(new IOException("wrapped", new StoreException("503", true, null))))
        .isTrue();
    assertThat(RetryPolicy.isRetryableByDefault(new IllegalStateException("bug"))).isFalse();
  }
}
