package io.binlogarchive;

import io.binlogarchive.binlog.BinlogFile;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.StoreLease;
import java.time.Duration;

/**
 * Hears what an {@link Archiver} does, for schedulers, progress displays and metrics. Every method
 * has a no-op default; events come in pairs (started, then archived, skipped or failed). A
 * listener is called from the archiver's threads and must be thread-safe; whatever exception it
 * throws is logged and ignored, never allowed into the pipeline. An {@link Error} it throws is not
 * caught: it ends the run, and ends a {@linkplain Archiver#start() started} archiver.
 */
public interface ArchiveListener {

  /** A listener that does nothing. */
  ArchiveListener NONE = new ArchiveListener() {};

  /**
   * A run begins.
   *
   * @param candidates how many closed binlogs are past the cursor
   */
  default void runStarted(int candidates) {}

  /**
   * Work on a file begins.
   *
   * @param file the binlog
   */
  default void fileStarted(BinlogFile file) {}

  /**
   * A file is archived, verified and described by its sidecar.
   *
   * @param result what was stored
   */
  default void fileArchived(FileResult result) {}

  /**
   * A file needed no work (already archived with the same content), or cannot be archived yet.
   *
   * @param result why
   */
  default void fileSkipped(FileResult result) {}

  /**
   * A file could not be archived; the run stops before the next file.
   *
   * @param file the binlog
   * @param error why
   */
  default void fileFailed(BinlogFile file, Throwable error) {}

  /**
   * A store call failed and will be tried again.
   *
   * @param what the call
   * @param attempt the failed attempt (1-based)
   * @param delay the wait before the next attempt
   * @param error the failure
   */
  default void retryScheduled(String what, int attempt, Duration delay, Throwable error) {}

  /**
   * Binlogs between the cursor and the oldest file still on the server were purged before they
   * were archived: the archive has a gap there.
   *
   * @param afterSequence the last sequence archived
   * @param nextSequence the next sequence available
   */
  default void gapDetected(long afterSequence, long nextSequence) {}

  /**
   * How far the archive is behind the server: closed binlogs past the cursor, measured when a run
   * has planned its work and again after every commit. Zero files means the archive holds every
   * closed binlog (only the active one is outstanding).
   *
   * @param files closed binlogs not yet archived
   * @param bytes their total size
   */
  default void backlogMeasured(int files, long bytes) {}

  /**
   * The cursor moved.
   *
   * @param cursor the committed cursor
   */
  default void cursorCommitted(Cursor cursor) {}

  /**
   * This agent does not archive in this run because it does not hold the archive's {@link
   * StoreLease} (see {@link Archiver.Builder#lease(StoreLease)}): another agent holds it, or the
   * lease could not be checked. No other event of the run follows. A {@link Archiver#start()
   * started} agent reports this on every poll while it stands by; its next run as the holder
   * starts with {@link #runStarted(int)} as usual.
   *
   * @param leaseKey the lease object's key
   * @param holder the id of the agent that holds the lease, or {@code null} if it could not be read
   *     (the lease was released meanwhile, or the store cannot be reached)
   */
  default void standingBy(String leaseKey, String holder) {}

  /**
   * A run ends.
   *
   * @param summary what it did
   */
  default void runFinished(RunSummary summary) {}

  /**
   * A segment of an open binlog is stored, proven and described by its sidecar (see {@link
   * SegmentArchiver}): the live position is now its end. Called on the segment archiver's thread.
   *
   * @param segment the segment's sidecar ({@link Sidecar#segment()} holds its range)
   */
  default void segmentArchived(Sidecar segment) {}

  /**
   * How far the store's live position is behind the server, after {@link
   * SegmentArchiver#serverPosition} told where the server is: the bytes the server has written
   * past what is stored (segments and whole files), and how long the oldest of them has waited, as
   * seen by those measurements (at most one measurement interval early). Both are zero when the
   * store holds everything the server wrote. Called on the thread that reported the position.
   *
   * @param bytes bytes written on the server but not yet stored, or -1 if the server's position is
   *     unknown (the probe lacks a privilege or cannot reach the server)
   * @param behind since when the oldest of them is known to have been written, or null if unknown
   */
  default void liveLagMeasured(long bytes, Duration behind) {}

  /**
   * Storing a segment failed; the segment archiver tries again at its next interval.
   *
   * @param file the open binlog
   * @param error what failed
   */
  default void segmentFailed(String file, Throwable error) {}
}
