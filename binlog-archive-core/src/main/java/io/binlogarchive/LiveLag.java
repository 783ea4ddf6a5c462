package io.binlogarchive;

import io.binlogarchive.internal.binlog.BinlogNames;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Map;

/**
 * The live lag of a {@link SegmentArchiver}: how many bytes the server has written past the store's
 * live position and how long they have waited, from the server positions measured so far. The wait
 * is dated by the first measurement that saw the server past the live position, so the positions
 * measured since are kept, oldest first, until the live position passes them. Thread-safe.
 */
final class LiveLag {
  /** At most this many positions are kept; beyond it the second oldest goes (the oldest dates the lag). */
  private static final int MAX_SAMPLES = 100_000;

  private final ArchiveListener listener;
  /** The server positions measured past the live position, oldest first (guarded by itself). */
  private final ArrayDeque<ServerSample> samples = new ArrayDeque<>();

  LiveLag(ArchiveListener listener) {
    this.listener = listener;
  }

  /**
   * Tells the listener the lag behind a measured server position.
   *
   * @param binlogs the server's binlogs, oldest first, with their sizes (not empty): the last one's
   *     size is the server's position
   * @param liveSeq the sequence of the file the live position is in, -1 if none
   * @param liveOffset the live position in that file ({@code Long.MAX_VALUE}: the whole file)
   * @param now when the position was measured
   */
  void measured(Map<String, Long> binlogs, long liveSeq, long liveOffset, Instant now) {
    long bytes = BinlogNames.bytesAfter(binlogs, liveSeq, liveOffset);
    Map.Entry<String, Long> end = null;
    for (Map.Entry<String, Long> e : binlogs.entrySet()) {
      end = e;
    }
    Duration behind;
    synchronized (samples) {
      if (bytes == 0) {
        samples.clear();
      } else {
        samples.addLast(new ServerSample(BinlogNames.sequence(end.getKey()), end.getValue(), now));
        while (samples.size() > 1 && !samples.peekFirst().after(liveSeq, liveOffset)) {
          samples.removeFirst();
        }
        if (samples.size() > MAX_SAMPLES) {
          ServerSample oldest = samples.removeFirst(); // it dates the lag: the second goes
          samples.removeFirst();
          samples.addFirst(oldest);
        }
      }
      behind = bytes == 0 ? Duration.ZERO : Duration.between(samples.peekFirst().at, now);
    }
    listener.liveLagMeasured(bytes, behind.isNegative() ? Duration.ZERO : behind);
  }

  /** Where a probe saw the server's end, and when. */
  private record ServerSample(long sequence, long position, Instant at) {
    boolean after(long liveSeq, long liveOffset) {
      return sequence > liveSeq || (sequence == liveSeq && position > liveOffset);
    }
  }
}
