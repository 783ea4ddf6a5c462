package io.binlogarchive.binlog;

import static io.binlogarchive.binlog.BinlogScanner.MAX_GTID_INTERVALS;
import static io.binlogarchive.binlog.BinlogScanner.MAX_GTID_SOURCES;
import static io.binlogarchive.binlog.BinlogScanner.MAX_SERVER_IDS;
import static io.binlogarchive.binlog.BinlogScanner.ROTATE_EVENT;
import static io.binlogarchive.binlog.BinlogScanner.STOP_EVENT;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The transaction-tracking part of {@link BinlogScanner}: what the file's events add up to. It
 * counts events and server ids, keeps the first and last event times, follows transaction (event
 * group) boundaries and their commit times, collects the GTIDs the {@link EventDecoder} finds, and
 * tells whether the file was closed (it ends with ROTATE or STOP). For a crashed file it takes a
 * last transaction without its commit out again, with its GTID.
 *
 * <p>It reads the current event's offset and timestamp from the {@link EventFramer}; it allocates
 * only when a new server id or a commit time appears.
 */
final class TransactionTracker {
  private final EventFramer framer;

  private int lastType = -1;
  private long eventCount;
  private long transactionCount;
  private long firstEventSecond;
  private long lastEventSecond;
  private long lastServerId = -1;
  private final TreeSet<Long> serverIds = new TreeSet<>();
  private Instant firstCommitTime;
  private Instant lastCommitTime;
  private final GtidSet.Builder gtids = new GtidSet.Builder(MAX_GTID_SOURCES, MAX_GTID_INTERVALS);
  // the last GTID added and the event it came from, so a crashed file's unfinished transaction can
  // be taken out again
  private String lastAddedSource;
  private long lastAddedSequence;
  private long lastAddedAt = -1;

  // the transaction (event group) being read
  private boolean groupOpen;
  private boolean groupFromGtid;
  private boolean groupSawBegin;
  private boolean groupSawStatement;
  private long groupStart;
  private Instant groupPreciseCommit;
  private long groupLastTimestamp;
  /** Set by the finish: the file ended after a transaction's GTID or BEGIN but before its commit. */
  private boolean endedInsideTransaction;

  TransactionTracker(EventFramer framer) {
    this.framer = framer;
  }

  /**
   * Counts the event whose header has just been read.
   *
   * @return false if the file now names more than {@link BinlogScanner#MAX_SERVER_IDS} server ids
   */
  boolean countEvent(int type, long serverId, long timestamp) {
    eventCount++;
    lastType = type;
    if (serverId != lastServerId) {
      lastServerId = serverId;
      if (serverIds.add(serverId) && serverIds.size() > MAX_SERVER_IDS) {
        return false;
      }
    }
    if (timestamp != 0) {
      if (firstEventSecond == 0) {
        firstEventSecond = timestamp;
      }
      lastEventSecond = timestamp;
    }
    return true;
  }

  /** Takes back the count of an event whose header arrived but whose body never did. */
  void uncountEvent() {
    eventCount--;
  }

  void addGtid(String source, long seq) {
    gtids.add(source, seq, seq);
    lastAddedSource = source;
    lastAddedSequence = seq;
    lastAddedAt = framer.eventStart();
  }

  /** The current event starts a transaction; an open one ends (it had no commit event). */
  void openGroup(Instant preciseCommit, boolean fromGtid) {
    closeGroup();
    transactionCount++;
    groupOpen = true;
    groupFromGtid = fromGtid;
    groupSawBegin = false;
    groupSawStatement = false;
    groupStart = framer.eventStart();
    groupPreciseCommit = preciseCommit;
    groupLastTimestamp = framer.eventTimestamp();
  }

  /** A {@code BEGIN} query: part of the transaction its GTID opened, or a transaction of its own. */
  void begin() {
    if (!(groupOpen && groupFromGtid && !groupSawBegin)) {
      openGroup(null, false);
    }
    groupSawBegin = true;
  }

  /** A query other than {@code BEGIN} and {@code COMMIT}. */
  void statement() {
    groupSawStatement = true;
  }

  /** An event inside the current transaction: its time is the transaction's latest. */
  void groupEvent() {
    long t = framer.eventTimestamp();
    if (groupOpen && t != 0) {
      groupLastTimestamp = t;
    }
  }

  /** The current transaction has committed. */
  void closeGroup() {
    if (!groupOpen) {
      return;
    }
    groupOpen = false;
    Instant t = groupPreciseCommit != null
        ? groupPreciseCommit
        : groupLastTimestamp != 0 ? Instant.ofEpochSecond(groupLastTimestamp) : null;
    if (t != null) {
      if (firstCommitTime == null) {
        firstCommitTime = t;
      }
      lastCommitTime = t;
    }
  }

  /** Whether a transaction is open that has not committed: after its GTID or BEGIN, before its commit. */
  private boolean uncommitted() {
    return groupOpen && (groupSawBegin || !groupSawStatement);
  }

  /**
   * Ends the file: closes the last transaction and returns the GTIDs the file's transactions hold.
   *
   * @param rollBackUncommitted the file is a crashed one: a last transaction without its commit was
   *     rolled back by recovery, so it is neither counted nor timed, and its GTID is not returned
   */
  GtidSet finish(boolean rollBackUncommitted) {
    boolean dropLastGtid = false;
    if (rollBackUncommitted && uncommitted()) {
      groupOpen = false;
      transactionCount--;
      dropLastGtid = lastAddedAt == groupStart; // anonymous and undecoded tagged GTID events add none
    }
    endedInsideTransaction = uncommitted();
    closeGroup();
    GtidSet added = gtids.build();
    if (dropLastGtid) {
      GtidSet.Builder last = new GtidSet.Builder(1, 1);
      last.add(lastAddedSource, lastAddedSequence, lastAddedSequence);
      added = added.subtract(last.build());
    }
    return added;
  }

  boolean endedInsideTransaction() {
    return endedInsideTransaction;
  }

  /** Whether a transaction has begun (GTID or BEGIN) and not yet committed. */
  boolean insideTransaction() {
    return uncommitted();
  }

  /** What {@link #finish} changes, so that a look at a file that goes on can be undone. */
  record State(boolean groupOpen, Instant firstCommitTime, Instant lastCommitTime, boolean endedInsideTransaction) {}

  State save() {
    return new State(groupOpen, firstCommitTime, lastCommitTime, endedInsideTransaction);
  }

  void restore(State s) {
    groupOpen = s.groupOpen();
    firstCommitTime = s.firstCommitTime();
    lastCommitTime = s.lastCommitTime();
    endedInsideTransaction = s.endedInsideTransaction();
  }

  /** Whether the last event is a ROTATE or STOP: the server finished the file. */
  boolean endsWithRotateOrStop() {
    return lastType == ROTATE_EVENT || lastType == STOP_EVENT;
  }

  long eventCount() {
    return eventCount;
  }

  long transactionCount() {
    return transactionCount;
  }

  Instant firstEventTime() {
    return firstEventSecond == 0 ? null : Instant.ofEpochSecond(firstEventSecond);
  }

  Instant lastEventTime() {
    return lastEventSecond == 0 ? null : Instant.ofEpochSecond(lastEventSecond);
  }

  Instant firstCommitTime() {
    return firstCommitTime;
  }

  Instant lastCommitTime() {
    return lastCommitTime;
  }

  List<Long> serverIds() {
    return new ArrayList<>(serverIds);
  }
}
