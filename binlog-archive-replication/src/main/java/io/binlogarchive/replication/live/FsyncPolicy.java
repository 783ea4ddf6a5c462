package io.binlogarchive.replication.live;

import java.time.Duration;
import java.util.Objects;

/**
 * When the spool forces its data to disk. Whatever the policy, a file is fsynced when it closes, and
 * a transaction a semi-sync source waits for is fsynced before it is acknowledged (except with
 * {@link #none()}, where "durable" means handed to the operating system).
 */
public final class FsyncPolicy {
  private final Duration interval;

  private FsyncPolicy(Duration interval) {
    this.interval = interval;
  }

  /** @return fsync after every transaction (the safest; the default) */
  public static FsyncPolicy perTransaction() {
    return new FsyncPolicy(Duration.ZERO);
  }

  /**
   * @param interval at most this long between fsyncs while transactions arrive (checked at each
   *     transaction and heartbeat)
   * @return the policy
   */
  public static FsyncPolicy interval(Duration interval) {
    Objects.requireNonNull(interval, "interval");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("fsync interval must be positive, got " + interval);
    }
    return new FsyncPolicy(interval);
  }

  /** @return never fsync except at file close; a host crash can lose the tail the listener was told about */
  public static FsyncPolicy none() {
    return new FsyncPolicy(null);
  }

  boolean syncs() {
    return interval != null;
  }

  /** @return the interval; zero for per transaction, null for none */
  Duration interval() {
    return interval;
  }

  @Override
  public String toString() {
    return interval == null ? "none" : interval.isZero() ? "per-transaction" : "interval " + interval;
  }
}
