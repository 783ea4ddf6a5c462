package io.binlogarchive.restore;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * What {@link ArchiveMaintenance#prune(RetentionPolicy, boolean)} keeps. Base backups are the anchor: a
 * backup is retained by the policy, and every archived binlog from a retained backup's start file
 * onwards is kept (so it can still be restored to the newest archived point). Binlogs before the
 * oldest retained backup's start file (and whole older timelines) go, as do the registry records of
 * backups whose start file goes.
 */
public final class RetentionPolicy {
  private final int keepBackups;
  private final Duration maxAge;
  private final Clock clock;

  private RetentionPolicy(int keepBackups, Duration maxAge, Clock clock) {
    this.keepBackups = keepBackups;
    this.maxAge = maxAge;
    this.clock = clock;
  }

  /**
   * Keeps the {@code n} newest base backups (by {@code taken_at}, then name) and what they need.
   *
   * @param n at least 1
   * @return the policy
   */
  public static RetentionPolicy keepNewestBackups(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("keep at least one base backup, got " + n);
    }
    return new RetentionPolicy(n, null, Clock.systemUTC());
  }

  /**
   * Keeps every point in time of the last {@code age}: the base backups taken since, plus the
   * newest one taken before (the one a restore to the start of the period needs), and every binlog
   * from that backup on.
   *
   * @param age a positive duration
   * @return the policy
   */
  public static RetentionPolicy maxAge(Duration age) {
    Objects.requireNonNull(age, "age");
    if (age.isNegative() || age.isZero()) {
      throw new IllegalArgumentException("the retention age must be positive, got " + age);
    }
    return new RetentionPolicy(0, age, Clock.systemUTC());
  }

  /**
   * @param c the clock {@link #maxAge(Duration)} measures from
   * @return a copy using that clock
   */
  public RetentionPolicy withClock(Clock c) {
    return new RetentionPolicy(keepBackups, maxAge, Objects.requireNonNull(c, "clock"));
  }

  int keepBackups() {
    return keepBackups;
  }

  Duration maxAge() {
    return maxAge;
  }

  Clock clock() {
    return clock;
  }

  /** @return e.g. {@code keep the 2 newest base backups} */
  @Override
  public String toString() {
    return maxAge != null ? "keep " + maxAge + " of history" : "keep the " + keepBackups + " newest base backups";
  }
}
