package io.binlogarchive.restore;

import io.binlogarchive.SegmentArchiver;
import io.binlogarchive.ArchiveException;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogFile;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.internal.RecordJson;
import io.binlogarchive.store.Cursor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * How far behind an archive is, for status pages and alerts: read without disturbing a running
 * archiver (the cursor file is read, not locked).
 *
 * @param cursor the committed cursor, if a cursor file was given and exists
 * @param newestArchived the newest sidecar of the newest timeline, if any
 * @param lagFiles closed binlogs past the cursor (or past the newest archived file when there is no
 *     cursor); 0 if no binlog source was given
 * @param lagBytes their total size
 * @param oldestUnarchivedSince when the oldest of them was last written (its close time), if any
 * @param checkedAt when this status was taken
 * @param liveSegment the newest segment (see {@link SegmentArchiver}) of the newest timeline past its
 *     newest whole file, if any: the live position is its file and {@link Sidecar.Segment#end()}
 */
public record ArchiveStatus(
    Optional<Cursor> cursor,
    Optional<Sidecar> newestArchived,
    int lagFiles,
    long lagBytes,
    Optional<Instant> oldestUnarchivedSince,
    Instant checkedAt,
    Optional<Sidecar> liveSegment) {

  /**
   * @param catalog the server's archive
   * @param cursorFile the agent's cursor file, or null
   * @param source the server's binlogs, or null
   * @param clock the clock
   * @return the status
   * @throws IOException if the store, the cursor file or the binlog listing cannot be read
   */
  public static ArchiveStatus of(ArchiveCatalog catalog, Path cursorFile, BinlogSource source, Clock clock)
      throws IOException {
    Optional<Cursor> cursor = cursorFile == null ? Optional.empty() : readCursor(cursorFile);
    Optional<Sidecar> newest = Optional.empty();
    Optional<Sidecar> live = Optional.empty();
    List<String> timelines = catalog.timelines();
    if (!timelines.isEmpty()) {
      String timeline = timelines.get(timelines.size() - 1);
      List<Sidecar> s = catalog.sidecars(timeline);
      if (!s.isEmpty()) {
        newest = Optional.of(s.get(s.size() - 1));
      }
      live = catalog.newestSegment(timeline).filter(g -> s.isEmpty() || g.sequence() > s.get(s.size() - 1).sequence());
    }
    long after = cursor.map(Cursor::sequence).orElse(newest.map(Sidecar::sequence).orElse(-1L));
    int files = 0;
    long bytes = 0;
    Instant oldest = null;
    if (source != null) {
      for (BinlogFile f : source.closedFiles()) {
        if (f.sequence() > after) {
          files++;
          try {
            bytes += Files.size(f.path());
            if (oldest == null) {
              oldest = Files.getLastModifiedTime(f.path()).toInstant();
            }
          } catch (NoSuchFileException e) {
            // purged meanwhile
          }
        }
      }
    }
    return new ArchiveStatus(cursor, newest, files, bytes, Optional.ofNullable(oldest), clock.instant(), live);
  }

  /**
   * @return how long ago the newest segment was stored, the live position's lag: on a busy server
   *     about the segment interval; it grows while the server is idle or the live archiver is down
   */
  public Optional<Duration> liveAge() {
    return liveSegment.map(s -> Duration.between(s.archivedAt(), checkedAt));
  }

  /** Reads a cursor file without taking its lock (a running archiver holds it). */
  static Optional<Cursor> readCursor(Path file) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    try {
      return Optional.ofNullable(RecordJson.readCursor(bytes));
    } catch (IOException e) {
      throw new ArchiveException("cursor file " + file + " is unreadable: " + e.getMessage(), e);
    }
  }

  /**
   * @return how long ago the cursor was committed (or the newest sidecar written, without a cursor)
   */
  public Optional<Duration> cursorAge() {
    Optional<Instant> at = cursor.map(Cursor::committedAt);
    if (at.isEmpty() || at.get() == null) {
      at = newestArchived.map(Sidecar::archivedAt);
    }
    return at.map(t -> Duration.between(t, checkedAt));
  }

  /**
   * The alerting rule: the archive is stale when a closed binlog has waited longer than {@code
   * maxAge} to be archived, or, when the binlogs were not looked at, when nothing was archived for
   * longer than {@code maxAge} (then an idle server also alerts: pair it with rotation, which
   * closes a file at least every rotation age while there are writes).
   *
   * @param maxAge the threshold
   * @param binlogsChecked whether a binlog source was given
   * @return whether to alert
   */
  public boolean isStale(Duration maxAge, boolean binlogsChecked) {
    if (binlogsChecked) {
      return lagFiles > 0 && oldestUnarchivedSince.map(t -> Duration.between(t, checkedAt).compareTo(maxAge) > 0)
          .orElse(false);
    }
    return cursorAge().map(a -> a.compareTo(maxAge) > 0).orElse(true);
  }
}
