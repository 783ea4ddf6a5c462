package io.binlogarchive;

import io.binlogarchive.binlog.BinlogFile;
import io.binlogarchive.store.Cursor;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What one {@link Archiver#runOnce()} did.
 *
 * @param results one entry per file handled, in sequence order
 * @param cursor the cursor after the run (empty if none was ever committed)
 * @param failure the error that stopped the run, or null
 * @param failedFile the file that failed, or null
 * @param duration the run's wall time
 */
public record RunSummary(
    List<FileResult> results, Optional<Cursor> cursor, Throwable failure, BinlogFile failedFile, Duration duration) {

  /**
   * Copies the list.
   *
   * @param results one entry per file handled, in sequence order
   * @param cursor the cursor after the run (empty if none was ever committed)
   * @param failure the error that stopped the run, or null
   * @param failedFile the file that failed, or null
   * @param duration the run's wall time
   */
  public RunSummary {
    results = List.copyOf(results);
  }

  /** @return whether every file past the cursor was handled without error */
  public boolean succeeded() {
    return failure == null;
  }

  /** @return how many files were newly archived */
  public long archivedCount() {
    return results.stream().filter(r -> r.status() == FileResult.Status.ARCHIVED).count();
  }

  /** @return plaintext bytes read in the run */
  public long bytesRead() {
    return results.stream().mapToLong(FileResult::bytesRead).sum();
  }
}
