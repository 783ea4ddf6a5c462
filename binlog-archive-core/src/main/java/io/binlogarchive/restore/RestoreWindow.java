package io.binlogarchive.restore;

import java.time.Instant;

/**
 * A stretch of one timeline that restores without a gap: consecutive sequence numbers, each file's
 * GTID state continuing the previous one, every sidecar valid and every artifact present (and, after
 * verification, matching its checksums). A restore can start anywhere in a window and stop anywhere
 * after that in the same window.
 *
 * @param timeline the timeline
 * @param firstFile the first binlog of the window
 * @param lastFile the last binlog of the window
 * @param fileCount how many files it holds
 * @param bytes their plaintext size
 * @param from the first event time of {@code firstFile}
 * @param to the last event time of {@code lastFile}
 * @param startGtids the GTID state before {@code firstFile} (its previous-GTIDs), or {@code null}
 * @param endGtids the GTID state after {@code lastFile}, or {@code null} if unknown
 */
public record RestoreWindow(
    String timeline,
    String firstFile,
    String lastFile,
    int fileCount,
    long bytes,
    Instant from,
    Instant to,
    String startGtids,
    String endGtids) {

  /** @return e.g. {@code t0001 mysql-bin.000001..mysql-bin.000012 (2026-..Z .. 2026-..Z, GTID 0-3-1 .. 0-3-3476)} */
  @Override
  public String toString() {
    return timeline + " " + firstFile + ".." + lastFile + " (" + from + " .. " + to
        + (endGtids == null ? "" : ", GTID [" + (startGtids == null ? "?" : startGtids) + "] .. [" + endGtids + "]") + ")";
  }
}
