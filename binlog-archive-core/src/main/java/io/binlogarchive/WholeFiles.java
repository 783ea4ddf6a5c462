package io.binlogarchive;

import io.binlogarchive.internal.ArchiveLayout;
import io.binlogarchive.internal.Segments;
import io.binlogarchive.internal.binlog.BinlogNames;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.CursorStore;
import io.binlogarchive.store.Sink;
import java.io.IOException;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an {@link Archiver} has archived whole, for its {@link SegmentArchiver}: the runs tell each
 * file once its sidecar is stored, the segment archiver asks which files need no more segments and
 * where the live position is when no segment is newer. Once a segment archiver is in use, a file
 * archived whole has its segments deleted here. Thread-safe.
 */
final class WholeFiles {
  private static final Logger LOG = LoggerFactory.getLogger(WholeFiles.class);

  private final Sink sink;
  private final RetryPolicy retryPolicy;
  private final ArchiveLayout layout;
  private final CursorStore cursorStore;
  /** Whether a {@link SegmentArchiver} stores segments for this archiver (then archived files drop theirs). */
  private volatile boolean segmentsInUse;
  /** Per timeline, the highest sequence this archiver has archived whole. */
  private final ConcurrentHashMap<String, Long> archived = new ConcurrentHashMap<>();
  /** The cursor's sequence when first asked by {@link #highestSequence()}; MIN_VALUE before. */
  private volatile long cursorAtStart = Long.MIN_VALUE;

  WholeFiles(Sink sink, RetryPolicy retryPolicy, ArchiveLayout layout, CursorStore cursorStore) {
    this.sink = sink;
    this.retryPolicy = retryPolicy;
    this.layout = layout;
    this.cursorStore = cursorStore;
  }

  void useSegments() {
    segmentsInUse = true;
  }

  /**
   * Called once a whole file's sidecar is in the store: marks it, then deletes its segments if
   * segments are in use (a failure is only logged: verify reports leftover segments and prune
   * removes them).
   */
  void archived(String timeline, String file) {
    archived.merge(timeline, BinlogNames.sequence(file), Math::max);
    if (!segmentsInUse) {
      return;
    }
    try {
      int n = Segments.remove(sink, retryPolicy, layout, timeline, file);
      if (n > 0) {
        LOG.atInfo().addKeyValue("binlog_filename", file)
            .log("{} is archived whole; removed its {} segment object(s)", file, n);
      }
    } catch (IOException | RuntimeException e) {
      LOG.atWarn().addKeyValue("binlog_filename", file)
          .log("could not remove the segments of {} after archiving it whole: {}", file, e.toString());
    }
  }

  /**
   * The highest sequence known archived whole: by this archiver's runs, or before them as the
   * committed cursor says (read once); -1 if none.
   */
  long highestSequence() {
    long here = archived.values().stream().mapToLong(Long::longValue).max().orElse(-1L);
    long before = cursorAtStart;
    if (before == Long.MIN_VALUE) {
      try {
        before = cursorStore.load().map(Cursor::sequence).orElse(-1L);
      } catch (IOException | RuntimeException e) {
        LOG.atDebug().log("cannot read the cursor: {}", e.toString());
        return here; // read again next time
      }
      cursorAtStart = before;
    }
    return Math.max(here, before);
  }

  /** Whether this archiver's runs have archived {@code file} of {@code timeline} whole. */
  boolean contains(String timeline, String file) {
    return archived.getOrDefault(timeline, -1L) >= BinlogNames.sequence(file);
  }
}
