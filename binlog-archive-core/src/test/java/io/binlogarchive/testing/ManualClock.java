package io.binlogarchive.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** A UTC clock that moves only when a test moves it. Thread-safe. */
public final class ManualClock extends Clock {
  private volatile Instant now;

  /** @param start the first instant */
  public ManualClock(Instant start) {
    this.now = start;
  }

  /** @param d how far to move the clock forward */
  public synchronized void advance(Duration d) {
    now = now.plus(d);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public Instant instant() {
    return now;
  }
}
