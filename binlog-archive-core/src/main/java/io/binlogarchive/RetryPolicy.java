package io.binlogarchive;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.function.DoubleSupplier;
import java.util.function.Predicate;

/**
 * How single store calls are retried: bounded attempts, exponential backoff with jitter, capped,
 * within a total time budget, for errors a predicate calls retryable. An immutable value; the
 * clock, the sleeper and the randomness are injected so tests never sleep.
 *
 * <p>A policy wraps one replayable call (a stat, a small put, a whole-file upload that re-reads the
 * local file), never a half-consumed stream. When it gives up it rethrows the last error, with the
 * earlier ones attached as suppressed exceptions.
 */
public final class RetryPolicy {

  /** A call that may fail with an {@link IOException}. */
  @FunctionalInterface
  public interface IoCall<T> {
    /**
     * @return the call's result
     * @throws IOException on failure
     */
    T call() throws IOException;
  }

  /** Waits between attempts; tests inject one that only advances a fake clock. */
  @FunctionalInterface
  public interface Sleeper {
    /**
     * @param duration how long to wait
     * @throws InterruptedException if interrupted
     */
    void sleep(Duration duration) throws InterruptedException;
  }

  /** Told of every retry before its wait. Must not throw. */
  @FunctionalInterface
  public interface Observer {
    /**
     * @param what the call being retried
     * @param attempt the attempt that failed (1-based)
     * @param delay the wait before the next attempt
     * @param error what failed
     */
    void retrying(String what, int attempt, Duration delay, Throwable error);
  }

  private static final Observer NO_OBSERVER = (w, a, d, e) -> {};

  private final int maxAttempts;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final double multiplier;
  private final Duration maxElapsed;
  private final Predicate<Throwable> retryOn;
  private final Clock clock;
  private final Sleeper sleeper;
  private final DoubleSupplier random;

  private RetryPolicy(Builder b) {
    this.maxAttempts = b.maxAttempts;
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.multiplier = b.multiplier;
    this.maxElapsed = b.maxElapsed;
    this.retryOn = b.retryOn;
    this.clock = b.clock;
    this.sleeper = b.sleeper;
    this.random = b.random;
  }

  /**
   * @return 8 attempts, 2 s initial backoff doubling to a 60 s cap, jittered, within 10 minutes,
   *     for {@link #isRetryableByDefault(Throwable) transient errors}
   */
  public static RetryPolicy defaults() {
    return builder().build();
  }

  /** @return a policy that tries once */
  public static RetryPolicy none() {
    return builder().maxAttempts(1).build();
  }

  /** @return a builder starting from {@link #defaults()} */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the maximum number of attempts */
  public int maxAttempts() {
    return maxAttempts;
  }

  /** @return the total time budget across all attempts of one call */
  public Duration maxElapsed() {
    return maxElapsed;
  }

  /**
   * The default retry predicate: a {@link StoreException} that says it is retryable, or an {@link
   * IOException} other than a missing file, a denied access or an interruption. Integrity
   * failures, chain breaks and every other {@link ArchiveException} are fatal.
   *
   * @param t the error
   * @return whether trying again may help
   */
  public static boolean isRetryableByDefault(Throwable t) {
    if (t instanceof StoreException se) {
      return se.isRetryable();
    }
    if (t instanceof ArchiveException) {
      return false;
    }
    if (t instanceof IOException) {
      if (t instanceof FileNotFoundException
          || t instanceof NoSuchFileException
          || t instanceof AccessDeniedException
          || t instanceof InterruptedIOException && !(t instanceof java.net.SocketTimeoutException)) {
        return false;
      }
      Throwable c = t.getCause();
      return !(c instanceof ArchiveException) || isRetryableByDefault(c);
    }
    return false;
  }

  /**
   * Runs {@code call}, retrying transient failures.
   *
   * @param <T> the call's result type
   * @param what a short description for logs and errors, e.g. {@code "upload mysql-bin.000042"}
   * @param call the call
   * @return its result
   * @throws IOException the last failure, when giving up
   */
  public <T> T call(String what, IoCall<T> call) throws IOException {
    return call(what, call, NO_OBSERVER);
  }

  /**
   * Runs {@code call}, retrying transient failures and telling {@code observer} before each wait.
   *
   * @param <T> the call's result type
   * @param what a short description for logs and errors
   * @param call the call
   * @param observer told of each retry
   * @return its result
   * @throws IOException the last failure, when giving up
   */
  public <T> T call(String what, IoCall<T> call, Observer observer) throws IOException {
    long start = clock.millis();
    List<Throwable> earlier = new ArrayList<>();
    for (int attempt = 1; ; attempt++) {
      try {
        return call.call();
      } catch (IOException | RuntimeException e) {
        Duration delay = backoff(attempt);
        long elapsed = clock.millis() - start;
        boolean giveUp =
            !retryOn.test(e)
                || attempt >= maxAttempts
                || elapsed + delay.toMillis() > maxElapsed.toMillis()
                || Thread.currentThread().isInterrupted();
        if (giveUp) {
          for (Throwable t : earlier) {
            if (t != e) {
              e.addSuppressed(t);
            }
          }
          throw e;
        }
        if (earlier.size() < 16) {
          earlier.add(e);
        }
        try {
          observer.retrying(what, attempt, delay, e);
        } catch (RuntimeException ignored) {
          // observers must never break the call
        }
        try {
          sleeper.sleep(delay);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          InterruptedIOException iio = new InterruptedIOException("interrupted while retrying " + what);
          iio.initCause(e);
          throw iio;
        }
      }
    }
  }

  Duration backoff(int failedAttempt) {
    double base = initialBackoff.toMillis() * Math.pow(multiplier, failedAttempt - 1);
    double capped = Math.min(base, maxBackoff.toMillis());
    // "equal jitter": half fixed, half random, so retries of many agents spread out
    double jittered = capped / 2 + random.getAsDouble() * capped / 2;
    return Duration.ofMillis((long) jittered);
  }

  @Override
  public String toString() {
    return "RetryPolicy[attempts=" + maxAttempts + ", backoff=" + initialBackoff + ".." + maxBackoff
        + " x" + multiplier + ", budget=" + maxElapsed + "]";
  }

  /** Builds a validated {@link RetryPolicy}. */
  public static final class Builder {
    private int maxAttempts = 8;
    private Duration initialBackoff = Duration.ofSeconds(2);
    private Duration maxBackoff = Duration.ofSeconds(60);
    private double multiplier = 2.0;
    private Duration maxElapsed = Duration.ofMinutes(10);
    private Predicate<Throwable> retryOn = RetryPolicy::isRetryableByDefault;
    private Clock clock = Clock.systemUTC();
    private Sleeper sleeper = d -> Thread.sleep(d.toMillis());
    private DoubleSupplier random = new Random()::nextDouble;

    private Builder() {}

    /**
     * @param n attempts in all, at least 1
     * @return this builder
     */
    public Builder maxAttempts(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1, got " + n);
      }
      this.maxAttempts = n;
      return this;
    }

    /**
     * @param d the wait after the first failure (before jitter), positive
     * @return this builder
     */
    public Builder initialBackoff(Duration d) {
      this.initialBackoff = positive(d, "initialBackoff");
      return this;
    }

    /**
     * @param d the longest wait between attempts, positive
     * @return this builder
     */
    public Builder maxBackoff(Duration d) {
      this.maxBackoff = positive(d, "maxBackoff");
      return this;
    }

    /**
     * @param m growth factor of the backoff, at least 1
     * @return this builder
     */
    public Builder multiplier(double m) {
      if (!(m >= 1.0)) {
        throw new IllegalArgumentException("multiplier must be at least 1, got " + m);
      }
      this.multiplier = m;
      return this;
    }

    /**
     * @param d the total time budget across all attempts, positive
     * @return this builder
     */
    public Builder maxElapsed(Duration d) {
      this.maxElapsed = positive(d, "maxElapsed");
      return this;
    }

    /**
     * @param p which errors are worth another attempt
     * @return this builder
     */
    public Builder retryOn(Predicate<Throwable> p) {
      this.retryOn = Objects.requireNonNull(p, "retryOn");
      return this;
    }

    /**
     * @param c the clock that measures the budget
     * @return this builder
     */
    public Builder clock(Clock c) {
      this.clock = Objects.requireNonNull(c, "clock");
      return this;
    }

    /**
     * @param s what waits between attempts
     * @return this builder
     */
    public Builder sleeper(Sleeper s) {
      this.sleeper = Objects.requireNonNull(s, "sleeper");
      return this;
    }

    /**
     * @param r uniform randomness in [0, 1) for the jitter
     * @return this builder
     */
    public Builder random(DoubleSupplier r) {
      this.random = Objects.requireNonNull(r, "random");
      return this;
    }

    /**
     * @return the policy
     * @throws IllegalArgumentException if the initial backoff exceeds the cap
     */
    public RetryPolicy build() {
      if (initialBackoff.compareTo(maxBackoff) > 0) {
        throw new IllegalArgumentException(
            "initialBackoff " + initialBackoff + " exceeds maxBackoff " + maxBackoff);
      }
      return new RetryPolicy(this);
    }

    private static Duration positive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive, got " + d);
      }
      return d;
    }
  }
}
