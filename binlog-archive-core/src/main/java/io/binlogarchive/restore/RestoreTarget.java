package io.binlogarchive.restore;

import io.binlogarchive.binlog.GtidSet;
import io.binlogarchive.internal.binlog.BinlogNames;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;

/**
 * Where a point-in-time recovery stops: a time (whole seconds, as binlog event times are), a GTID
 * state, or a binlog file and byte position. Create one with {@link #time(Instant)}, {@link
 * #gtid(String)} or {@link #position(String, long)}; {@link #latest()} replays everything archived.
 */
public final class RestoreTarget {
  /** The kinds of target. */
  public enum Kind {
    /** Everything committed at or before a second. */
    TIME,
    /** Everything up to and including a GTID set. */
    GTID,
    /** Everything before a byte position in a file. */
    POSITION,
    /** Everything archived (the end of the start's window). */
    LATEST
  }

  private final Kind kind;
  private final Instant time;
  private final GtidSet gtid;
  private final String file;
  private final long position;

  private RestoreTarget(Kind kind, Instant time, GtidSet gtid, String file, long position) {
    this.kind = kind;
    this.time = time;
    this.gtid = gtid;
    this.file = file;
    this.position = position;
  }

  /**
   * Recovers every transaction whose events carry a time at or before {@code time}'s second
   * (fractions are dropped); replay stops at the first event of a later second.
   *
   * @param time the target time
   * @return the target
   */
  public static RestoreTarget time(Instant time) {
    return new RestoreTarget(Kind.TIME, Objects.requireNonNull(time, "time").truncatedTo(ChronoUnit.SECONDS), null, null, 0);
  }

  /**
   * Recovers up to and including the transaction that completes a GTID set: MySQL {@code
   * uuid:1-100} (every GTID in the set applied) or MariaDB {@code 0-1-100} (for every
   * domain-server, the sequence number reached).
   *
   * @param gtidSet the target, in {@link GtidSet} text form
   * @return the target
   * @throws IllegalArgumentException if the set is malformed or empty
   */
  public static RestoreTarget gtid(String gtidSet) {
    GtidSet g = GtidSet.parse(Objects.requireNonNull(gtidSet, "gtidSet"));
    if (g.isEmpty()) {
      throw new IllegalArgumentException("the target GTID set is empty");
    }
    return new RestoreTarget(Kind.GTID, null, g, null, 0);
  }

  /**
   * Recovers every event of the archive before byte {@code position} of binlog {@code file}.
   *
   * @param file a binlog file name, e.g. {@code mysql-bin.000042}
   * @param position a byte offset in it (an event boundary, as {@code SHOW MASTER STATUS} gives)
   * @return the target
   */
  public static RestoreTarget position(String file, long position) {
    if (!BinlogNames.isPlainFileName(Objects.requireNonNull(file, "file")) || BinlogNames.sequence(file) < 0) {
      throw new IllegalArgumentException("'" + file + "' is not a binlog name like mysql-bin.000042");
    }
    if (position < 4) {
      throw new IllegalArgumentException("a binlog position is at least 4, got " + position);
    }
    return new RestoreTarget(Kind.POSITION, null, null, file, position);
  }

  /** @return a target at the end of the archived window the start lies in */
  public static RestoreTarget latest() {
    return new RestoreTarget(Kind.LATEST, null, null, null, 0);
  }

  /** @return the kind of target */
  public Kind kind() {
    return kind;
  }

  /** @return the target second, or {@code null} unless {@link Kind#TIME} */
  public Instant time() {
    return time;
  }

  /** @return the target GTID set as text, or {@code null} unless {@link Kind#GTID} */
  public String gtid() {
    return gtid == null ? null : gtid.toString();
  }

  /** @return the target file, or {@code null} unless {@link Kind#POSITION} */
  public String file() {
    return file;
  }

  /** @return the target byte position, or 0 unless {@link Kind#POSITION} */
  public long position() {
    return position;
  }

  GtidSet gtidSet() {
    return gtid;
  }

  /** @return e.g. {@code time 2026-11-22T10:00:00Z}, {@code GTID 0-1:100}, {@code position mysql-bin.000003:1234} */
  @Override
  public String toString() {
    return switch (kind) {
      case TIME -> "time " + time;
      case GTID -> "GTID " + gtid;
      case POSITION -> "position " + file + ":" + position;
      case LATEST -> "latest";
    };
  }
}
