package io.binlogarchive.restore;

import io.binlogarchive.Sidecar;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * Which archived binlogs a point-in-time recovery replays, from where, and where it stops; made
 * from sidecars alone by {@link ArchiveReader#plan(BaseBackup, RestoreTarget)}.
 *
 * <p>Replay semantics (those of {@code mariadb-binlog} and {@code mysqlbinlog}): the first file is
 * read from {@link #startPosition()}, the others from their start; replay stops at the first event
 * whose time is at or after {@link #stopDatetime()} (across all files), or at {@link
 * #stopPosition()} in the last file. A {@link RestoreTarget.Kind#GTID} target's stop position is
 * found when the last file is fetched (the sidecars only say which file holds the transaction).
 *
 * @param timeline the timeline replayed
 * @param backup the base backup's name, or {@code null} for an explicit start
 * @param startFile the first file
 * @param startPosition where replay starts in it
 * @param startGtids the GTID state at the start, or {@code null} if unknown
 * @param target the target
 * @param files the sidecars of the files to replay, in order
 * @param totalBytes their plaintext size
 * @param stopDatetime replay stops at the first event at or after this time (the target second
 *     plus one), or {@code null}
 * @param stopPosition replay stops at this position of the last file, or -1 for its end (or not yet
 *     known for a GTID target)
 * @param stopAfterGtid a GTID target: replay stops after the transaction that completes it, or
 *     {@code null}
 * @param flavor {@code mariadb} or {@code mysql}
 * @param windows every restorable window of the archive
 * @param problems every gap and problem the sidecars and listings show
 * @param startChoice how {@link ArchiveReader#plan(RestoreTarget)} chose the start when none was
 *     given (e.g. the newest registered base backup before the target), or {@code null} when the
 *     caller named it
 */
public record RestorePlan(
    String timeline,
    String backup,
    String startFile,
    long startPosition,
    String startGtids,
    RestoreTarget target,
    List<Sidecar> files,
    long totalBytes,
    Instant stopDatetime,
    long stopPosition,
    String stopAfterGtid,
    String flavor,
    List<RestoreWindow> windows,
    List<ArchiveProblem> problems,
    String startChoice) {

  /**
   * Copies the lists.
   *
   * @param timeline the timeline replayed
   * @param backup the base backup's name, or {@code null} for an explicit start
   * @param startFile the first file
   * @param startPosition where replay starts in it
   * @param startGtids the GTID state at the start, or {@code null} if unknown
   * @param target the target
   * @param files the sidecars of the files to replay, in order
   * @param totalBytes their plaintext size
   * @param stopDatetime replay stops at the first event at or after this time (the target second
   *     plus one), or {@code null}
   * @param stopPosition replay stops at this position of the last file, or -1 for its end (or not yet
   *     known for a GTID target)
   * @param stopAfterGtid a GTID target: replay stops after the transaction that completes it, or
   *     {@code null}
   * @param flavor {@code mariadb} or {@code mysql}
   * @param windows every restorable window of the archive
   * @param problems every gap and problem the sidecars and listings show
   * @param startChoice how the start was chosen when none was given, or {@code null}
   */
  public RestorePlan {
    files = List.copyOf(files);
    windows = List.copyOf(windows);
    problems = List.copyOf(problems);
  }

  /**
   * A plan whose start the caller named ({@link #startChoice()} is {@code null}).
   *
   * @param timeline the timeline replayed
   * @param backup the base backup's name, or {@code null} for an explicit start
   * @param startFile the first file
   * @param startPosition where replay starts in it
   * @param startGtids the GTID state at the start, or {@code null} if unknown
   * @param target the target
   * @param files the sidecars of the files to replay, in order
   * @param totalBytes their plaintext size
   * @param stopDatetime replay stops at the first event at or after this time, or {@code null}
   * @param stopPosition replay stops at this position of the last file, or -1
   * @param stopAfterGtid a GTID target: replay stops after the transaction that completes it, or
   *     {@code null}
   * @param flavor {@code mariadb} or {@code mysql}
   * @param windows every restorable window of the archive
   * @param problems every gap and problem the sidecars and listings show
   */
  public RestorePlan(String timeline, String backup, String startFile, long startPosition, String startGtids,
      RestoreTarget target, List<Sidecar> files, long totalBytes, Instant stopDatetime, long stopPosition,
      String stopAfterGtid, String flavor, List<RestoreWindow> windows, List<ArchiveProblem> problems) {
    this(timeline, backup, startFile, startPosition, startGtids, target, files, totalBytes, stopDatetime, stopPosition,
        stopAfterGtid, flavor, windows, problems, null);
  }

  /** @return a copy that says how its start was chosen */
  RestorePlan withStartChoice(String choice) {
    return new RestorePlan(timeline, backup, startFile, startPosition, startGtids, target, files, totalBytes,
        stopDatetime, stopPosition, stopAfterGtid, flavor, windows, problems, choice);
  }

  /** @return the last file to replay */
  public String lastFile() {
    return files.get(files.size() - 1).file();
  }

  /** @return {@code mariadb-binlog} for MariaDB archives, else {@code mysqlbinlog} */
  public String replayTool() {
    return "mysql".equals(flavor) ? "mysqlbinlog" : "mariadb-binlog";
  }

  /** @return a few lines describing the plan for people */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "restore plan: %s%n", target));
    sb.append(String.format(Locale.ROOT, "  start: %s %s position %d%s%s%n", timeline, startFile, startPosition,
        backup == null ? "" : " (base backup " + backup + ")", startGtids == null ? "" : ", GTID state [" + startGtids + "]"));
    if (startChoice != null) {
      sb.append(String.format(Locale.ROOT, "  start chosen: %s%n", startChoice));
    }
    sb.append(String.format(Locale.ROOT, "  files: %d, %d bytes: %s .. %s%n", files.size(), totalBytes, startFile,
        lastFile()));
    if (stopDatetime != null) {
      sb.append(String.format(Locale.ROOT, "  stop: at the first event at or after %s (--stop-datetime)%n", stopDatetime));
    } else if (stopAfterGtid != null) {
      sb.append(String.format(Locale.ROOT, "  stop: after the transaction that completes GTID [%s] in %s%s%n",
          stopAfterGtid, lastFile(), stopPosition > 0 ? " (--stop-position=" + stopPosition + ")" : ""));
    } else if (stopPosition > 0) {
      sb.append(String.format(Locale.ROOT, "  stop: %s position %d (--stop-position)%n", lastFile(), stopPosition));
    } else {
      sb.append(String.format(Locale.ROOT, "  stop: at the end of %s%n", lastFile()));
    }
    for (RestoreWindow w : windows) {
      sb.append("  window: ").append(w).append(System.lineSeparator());
    }
    for (ArchiveProblem p : problems) {
      sb.append("  problem: ").append(p).append(System.lineSeparator());
    }
    return sb.toString();
  }
}
