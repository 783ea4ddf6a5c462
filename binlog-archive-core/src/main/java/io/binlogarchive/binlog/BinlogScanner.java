package io.binlogarchive.binlog;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.InvalidBinlogException;
import io.binlogarchive.internal.binlog.ScannerAccess;
import io.binlogarchive.internal.binlog.TaggedGtidCodec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A streaming reader of the binlog v4 format (MySQL 5.0+ and MariaDB) that is fed the file's bytes
 * as they pass through the archive pipeline, so the file is read once.
 *
 * <h2>What it reads</h2>
 *
 * <ul>
 *   <li>the magic bytes and the FORMAT_DESCRIPTION_EVENT: binlog version (must be 4), server
 *       version, the in-use flag {@code LOG_EVENT_BINLOG_IN_USE_F}, and the checksum algorithm (the
 *       byte just before the event's own CRC, for MySQL 5.6.1+ and MariaDB 5.3+; older servers
 *       write no checksums);
 *   <li>every event header (timestamp, type, server id, size, end position, flags). The end
 *       position must agree with the event's offset and size (modulo 2<sup>32</sup>) unless it is 0;
 *   <li>the CRC32 of every event when the file has checksums, computed incrementally over the
 *       slices it is fed. The FORMAT_DESCRIPTION_EVENT's checksum is computed with the in-use flag
 *       cleared, as both servers do. A mismatch throws {@link IntegrityException} or, when
 *       configured to warn, is logged and counted in {@link BinlogInfo#checksumFailures()};
 *   <li>GTID events: MySQL GTID_LOG_EVENT (33), ANONYMOUS_GTID_LOG_EVENT (34),
 *       PREVIOUS_GTIDS_LOG_EVENT (35, in the untagged and the MySQL 8.3+ tagged format),
 *       GTID_TAGGED_LOG_EVENT (42, MySQL 8.3+: a transaction with a tagged GTID {@code uuid:tag:N};
 *       see {@link TaggedGtidCodec}), MariaDB GTID_EVENT (162) and GTID_LIST_EVENT (163); QUERY
 *       events only as far as needed to recognise {@code BEGIN} and {@code COMMIT}; XID events.
 * </ul>
 *
 * <p>Everything else, row payloads included, is skipped without copying: only the 19-byte header
 * and a small prefix of the few parsed events are ever held.
 *
 * <h2>Transactions and commit times</h2>
 *
 * A transaction starts at a GTID event (including anonymous and tagged ones) or, in files without
 * GTID events, at a {@code BEGIN} query. Its commit time is MySQL's {@code
 * immediate_commit_timestamp} (microseconds, written in GTID events by MySQL 8.0.1+); otherwise
 * (MariaDB, MySQL 5.7) the header timestamp (seconds) of the transaction's last event: its XID or
 * {@code COMMIT} event, or for a DDL statement the statement itself. TRANSACTION_PAYLOAD events
 * (40, MySQL 8 compressed transactions) are counted; they follow their GTID event, so the
 * transaction is still counted and timed.
 *
 * <h2>Documented limits</h2>
 *
 * <ul>
 *   <li>Tagged GTIDs are decoded as MySQL 8.3 to 9.x write them (serialization format version 1,
 *       PREVIOUS_GTIDS format 1). A GTID_TAGGED_LOG_EVENT of another serialization version or with
 *       fields a reader must understand but this one does not know, and a PREVIOUS_GTIDS event of an
 *       unknown format, are counted in {@link BinlogInfo#unparsedGtidEventCount()} (such a GTID
 *       event still counts as a transaction) and their GTIDs are missing from the result; {@link
 *       BinlogInfo#continuityProblem} then refuses to vouch for the file.
 *   <li>MariaDB encrypted binlogs (START_ENCRYPTION_EVENT, 164) are rejected with {@link
 *       InvalidBinlogException}: the events after it are not readable without the key.
 *   <li>Events of unknown types are skipped and counted in {@link BinlogInfo#unknownEventCount()}.
 *   <li>Memory is bounded: at most {@value #MAX_GTID_SOURCES} distinct GTID sources (UUIDs, tags,
 *       MariaDB domain-server pairs), {@value #MAX_GTID_INTERVALS} GTID intervals and {@value
 *       #MAX_SERVER_IDS} server ids per file, a FORMAT_DESCRIPTION_EVENT of at most {@value
 *       #MAX_FDE_BODY} bytes, a PREVIOUS_GTIDS event of at most {@value #MAX_PREVIOUS_GTIDS_BODY}
 *       bytes and a GTID_TAGGED_LOG_EVENT of at most {@value #MAX_TAGGED_GTID_BODY} bytes; beyond
 *       these the scan fails with {@link InvalidBinlogException}. Buffers grow only with bytes
 *       actually received, never with a size a file declares.
 *   <li>Event timestamps of 0 (written by some servers for artificial events) are ignored for the
 *       first/last event times.
 * </ul>
 *
 * <p>Every malformed input ends in {@link InvalidBinlogException} naming the file, the offset and
 * the problem; after an exception the scanner refuses further use. Not thread-safe: one scanner
 * per file.
 *
 * <h2>How it is built</h2>
 *
 * This class is the facade; three package-private parts do the work, one job each: {@code
 * EventFramer} cuts the bytes into events (magic, headers, CRC32, the bounded capture of the few
 * bodies that are decoded), {@code EventDecoder} decodes the event types listed above, and {@code
 * TransactionTracker} adds up what they mean (events, server ids, transactions, commit times,
 * GTIDs). The event type numbers and limits stay here, where the format is described.
 */
public final class BinlogScanner {
  static final byte[] MAGIC = {(byte) 0xfe, 'b', 'i', 'n'};
  static final int HEADER_LEN = 19;
  static final int LOG_EVENT_BINLOG_IN_USE_F = 0x1;

  static final int START_EVENT_V3 = 1;
  static final int QUERY_EVENT = 2;
  static final int STOP_EVENT = 3;
  static final int ROTATE_EVENT = 4;
  static final int FORMAT_DESCRIPTION_EVENT = 15;
  static final int XID_EVENT = 16;
  static final int HEARTBEAT_LOG_EVENT = 27;
  static final int GTID_LOG_EVENT = 33;
  static final int ANONYMOUS_GTID_LOG_EVENT = 34;
  static final int PREVIOUS_GTIDS_LOG_EVENT = 35;
  static final int TRANSACTION_PAYLOAD_EVENT = 40;
  static final int HEARTBEAT_LOG_EVENT_V2 = 41;
  static final int GTID_TAGGED_LOG_EVENT = 42;
  static final int MARIADB_ANNOTATE_ROWS_EVENT = 160;
  static final int MARIADB_BINLOG_CHECKPOINT_EVENT = 161;
  static final int MARIADB_GTID_EVENT = 162;
  static final int MARIADB_GTID_LIST_EVENT = 163;
  static final int MARIADB_START_ENCRYPTION_EVENT = 164;
  static final int MARIADB_LAST_KNOWN_EVENT = 171;

  static final int MAX_GTID_SOURCES = 4096;
  static final int MAX_GTID_INTERVALS = 65_536;
  static final int MAX_SERVER_IDS = 1024;
  static final int MAX_FDE_BODY = 4096;
  static final int MAX_PREVIOUS_GTIDS_BODY = 2 << 20;
  static final int MAX_TAGGED_GTID_BODY = TaggedGtidCodec.MAX_BODY;

  static {
    // the pipeline's access to the package-private methods below (crash-cut files, open binlogs)
    ScannerAccess.lend(new ScannerAccess.Lent() {
      @Override
      public BinlogInfo finishCrashed(BinlogScanner s) {
        return s.finishCrashed();
      }

      @Override
      public boolean endedInsideTransaction(BinlogScanner s) {
        return s.endedInsideTransaction();
      }

      @Override
      public boolean atTransactionBoundary(BinlogScanner s) {
        return s.atTransactionBoundary();
      }

      @Override
      public BinlogInfo snapshot(BinlogScanner s) {
        return s.snapshot();
      }
    });
  }

  private final EventFramer framer;
  private final TransactionTracker tracker;
  private final EventDecoder decoder;
  private RuntimeException failure;
  private boolean finished;

  /**
   * Creates a scanner for one file.
   *
   * @param fileName the file's name, used in error messages
   * @param failOnChecksumMismatch fail on a CRC32 mismatch ({@code true}) or only log and count it
   */
  public BinlogScanner(String fileName, boolean failOnChecksumMismatch) {
    this.framer = new EventFramer(Objects.requireNonNull(fileName, "fileName"), failOnChecksumMismatch);
    this.tracker = new TransactionTracker(framer);
    this.decoder = new EventDecoder(framer, tracker);
    framer.decoder(decoder);
  }

  /**
   * Scans a whole local file, failing on checksum mismatches.
   *
   * @param file the binlog
   * @return what the file holds
   * @throws InvalidBinlogException if it is not a valid, complete binlog
   * @throws IntegrityException if an event's CRC32 does not match
   * @throws IOException if it cannot be read
   */
  public static BinlogInfo scan(Path file) throws IOException {
    BinlogScanner scanner = new BinlogScanner(file.getFileName().toString(), true);
    byte[] buf = new byte[1 << 16];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        scanner.update(buf, 0, n);
      }
    }
    return scanner.finish();
  }

  /**
   * Feeds the next bytes of the file, in order; chunks may have any size and split events anywhere.
   *
   * @param b the buffer
   * @param off where the bytes start in {@code b}
   * @param len how many bytes to read
   * @throws InvalidBinlogException on malformed input (naming file, offset and what is wrong)
   * @throws IntegrityException on a CRC32 mismatch when configured to fail
   * @throws IllegalStateException after {@link #finish()} or after an earlier failure
   */
  public void update(byte[] b, int off, int len) {
    Objects.checkFromIndexSize(off, len, b.length);
    checkUsable();
    try {
      framer.consume(b, off, len);
    } catch (RuntimeException e) {
      failure = e;
      throw e;
    }
  }

  private void checkUsable() {
    if (failure != null) {
      throw new IllegalStateException(framer.fileName() + ": the scanner already failed: " + failure.getMessage(), failure);
    }
    if (finished) {
      throw new IllegalStateException(framer.fileName() + ": the scanner has already finished");
    }
  }

  /**
   * Whether the FORMAT_DESCRIPTION_EVENT's header has been read, so {@link #inUse()} is known.
   *
   * @return {@code true} once the first event's header has been fed
   */
  boolean headerRead() {
    return framer.sawFormatDescription();
  }

  /**
   * Whether the file's in-use flag is set (the server was still writing it when it was copied).
   *
   * @return the flag from the FORMAT_DESCRIPTION_EVENT header; {@code false} before that header was fed
   */
  public boolean inUse() {
    return framer.inUse();
  }

  /**
   * How many bytes have been fed.
   *
   * @return the offset in the file of the next byte expected
   */
  public long position() {
    return framer.position();
  }

  /**
   * Ends the scan after the last byte of the file has been fed.
   *
   * @return what the file holds
   * @throws InvalidBinlogException if the file ends inside the magic, a header or an event, or has no events
   * @throws IllegalStateException if called twice or after a failure
   */
  public BinlogInfo finish() {
    return finish(false);
  }

  /**
   * After a finish: whether the file ended inside a transaction (after its GTID or BEGIN, before
   * its commit). A file that ends between transactions without a ROTATE or STOP is what MySQL's
   * crash recovery leaves: it truncates the crashed binlog to its last complete transaction.
   *
   * @return {@code true} if the last transaction has no commit in the file
   */
  boolean endedInsideTransaction() {
    return tracker.endedInsideTransaction();
  }

  /**
   * Ends the scan of a binlog that the server crashed while writing and will never write again
   * (its in-use flag is still set and newer binlogs are closed). Such a file ends where the crash
   * cut it: without ROTATE or STOP, possibly inside an event, possibly inside a transaction. MariaDB
   * leaves it exactly so after crash recovery, and recovery rolls back a transaction whose commit
   * (XID or COMMIT) is not in the file. So the result describes the complete events only: {@link
   * BinlogInfo#endPosition()} is where the last complete event ends (the file may be longer), and a
   * last transaction without its commit is neither counted nor timed, nor is its GTID in {@link
   * BinlogInfo#gtids()} (the recovered server gives that GTID to its next transaction).
   *
   * @return what the file's complete events hold
   * @throws InvalidBinlogException if the file has no complete FORMAT_DESCRIPTION_EVENT
   */
  BinlogInfo finishCrashed() {
    return finish(true);
  }

  /**
   * Whether the bytes fed so far end between two events and outside any transaction: a segment of
   * an open binlog may end here.
   *
   * @return {@code true} at a transaction boundary
   */
  boolean atTransactionBoundary() {
    return failure == null && decoder.formatDescriptionComplete() && framer.betweenEvents()
        && !tracker.insideTransaction();
  }

  /**
   * What the bytes fed so far hold, as {@link #finish()} would say if the file ended here, without
   * ending the scan: for the archived prefix of a binlog that is still open. Call it only {@link
   * #atTransactionBoundary() at a transaction boundary}.
   *
   * @return what the scanned prefix holds
   */
  BinlogInfo snapshot() {
    checkUsable();
    TransactionTracker.State saved = tracker.save();
    try {
      return result(false);
    } finally {
      tracker.restore(saved); // the file goes on: its last transaction is not ended here
    }
  }

  private BinlogInfo finish(boolean crashed) {
    checkUsable();
    try {
      BinlogInfo info = result(crashed);
      finished = true;
      return info;
    } catch (RuntimeException e) {
      failure = e;
      throw e;
    }
  }

  private BinlogInfo result(boolean crashed) {
    boolean cut = crashed && decoder.formatDescriptionComplete();
    if (cut && framer.position() >= 4 && framer.insideEvent()) {
      tracker.uncountEvent(); // counted when its header arrived; the rest never did
    }
    long end = framer.completeEnd(cut);
    String fileName = framer.fileName();
    if (!framer.sawFormatDescription() || !decoder.formatDescriptionComplete()) {
      throw new InvalidBinlogException(fileName + ": truncated: no events after the magic bytes");
    }
    GtidSet added = tracker.finish(cut);
    long checksumFailures = framer.checksumFailures();
    if (checksumFailures > 0) {
      // one line per file, not per event: a corrupt file can hold millions of events
      Logger log = LoggerFactory.getLogger(BinlogScanner.class);
      log.warn("binlog checksum mismatch: {} event(s) of {} failed CRC32, the first: {} binlog_filename={} checksum_status=mismatch",
          checksumFailures, fileName, framer.firstChecksumFailure(), fileName);
    }
    boolean inUse = framer.inUse();
    boolean closed = !inUse && tracker.endsWithRotateOrStop();
    String serverVersion = decoder.serverVersion();
    String flavor = serverVersion.toLowerCase(Locale.ROOT).contains("mariadb") ? "mariadb" : "mysql";
    return new BinlogInfo(
        flavor,
        serverVersion,
        decoder.binlogVersion(),
        decoder.checksumAlgorithm(),
        inUse,
        closed,
        tracker.firstEventTime(),
        tracker.lastEventTime(),
        tracker.firstCommitTime(),
        tracker.lastCommitTime(),
        decoder.previousGtids(),
        added.toString(),
        tracker.serverIds(),
        tracker.eventCount(),
        tracker.transactionCount(),
        decoder.compressedTransactionCount(),
        decoder.unknownEventCount(),
        checksumFailures,
        end,
        decoder.unparsedGtidEventCount());
  }

  static String typeName(int type) {
    String name = switch (type) {
      case START_EVENT_V3 -> "START_EVENT_V3";
      case QUERY_EVENT -> "QUERY_EVENT";
      case STOP_EVENT -> "STOP_EVENT";
      case ROTATE_EVENT -> "ROTATE_EVENT";
      case FORMAT_DESCRIPTION_EVENT -> "FORMAT_DESCRIPTION_EVENT";
      case XID_EVENT -> "XID_EVENT";
      case 19 -> "TABLE_MAP_EVENT";
      case 23, 30 -> "WRITE_ROWS_EVENT";
      case 24, 31 -> "UPDATE_ROWS_EVENT";
      case 25, 32 -> "DELETE_ROWS_EVENT";
      case GTID_LOG_EVENT -> "GTID_LOG_EVENT";
      case ANONYMOUS_GTID_LOG_EVENT -> "ANONYMOUS_GTID_LOG_EVENT";
      case PREVIOUS_GTIDS_LOG_EVENT -> "PREVIOUS_GTIDS_LOG_EVENT";
      case TRANSACTION_PAYLOAD_EVENT -> "TRANSACTION_PAYLOAD_EVENT";
      case GTID_TAGGED_LOG_EVENT -> "GTID_TAGGED_LOG_EVENT";
      case MARIADB_ANNOTATE_ROWS_EVENT -> "ANNOTATE_ROWS_EVENT";
      case MARIADB_BINLOG_CHECKPOINT_EVENT -> "BINLOG_CHECKPOINT_EVENT";
      case MARIADB_GTID_EVENT -> "GTID_EVENT";
      case MARIADB_GTID_LIST_EVENT -> "GTID_LIST_EVENT";
      case MARIADB_START_ENCRYPTION_EVENT -> "START_ENCRYPTION_EVENT";
      default -> "event";
    };
    return name + " (type " + type + ")";
  }
}
