package io.binlogarchive;

import io.binlogarchive.binlog.BinlogFile;
import java.time.Duration;

/**
 * The outcome for one binlog in a run.
 *
 * @param file the binlog
 * @param status what happened
 * @param detail a human-readable reason or note
 * @param sidecar the sidecar describing the archived file (null unless archived or already archived)
 * @param bytesRead plaintext bytes read from the local file
 * @param duration time spent on the file
 */
public record FileResult(
    BinlogFile file, Status status, String detail, Sidecar sidecar, long bytesRead, Duration duration) {

  /** What happened to a file. */
  public enum Status {
    /** Uploaded, verified, sidecar written. */
    ARCHIVED,
    /** Already in the archive with the same content; nothing written. */
    ALREADY_ARCHIVED,
    /** Shadow mode: the whole pipeline ran, nothing was committed. */
    SHADOWED,
    /** Dry run: would be archived. */
    PLANNED,
    /** Still open (in-use flag set, or not ended by ROTATE/STOP): not archived, the run stops here. */
    NOT_CLOSED
  }
}
