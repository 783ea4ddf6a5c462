package io.binlogarchive.binlog;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.InvalidBinlogException;
import io.binlogarchive.internal.binlog.TaggedGtidCodec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.TreeSet;
import java.util.zip.CRC32;
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
 */
public final class BinlogScanner {
  static final byte[] MAGIC = {(byte) 0xfe, 'b', 'i', 'n'};
  static final int HEADER_LEN = 19;
  public static final int LOG_EVENT_BINLOG_IN_USE_F = 0x1;

  static final int START_EVENT_V3 = 1;
  static final int QUERY_EVENT = 2;
  static final int STOP_EVENT = 3;
  public static final int ROTATE_EVENT = 4;
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
  public static final int MARIADB_GTID_EVENT = 162;
  static final int MARIADB_GTID_LIST_EVENT = 163;
  static final int MARIADB_START_ENCRYPTION_EVENT = 164;
  static final int MARIADB_LAST_KNOWN_EVENT = 171;

  static final int MAX_GTID_SOURCES = 4096;
  static final int MAX_GTID_INTERVALS = 65_536;
  static final int MAX_SERVER_IDS = 1024;
  static final int MAX_FDE_BODY = 4096;
  static final int MAX_PREVIOUS_GTIDS_BODY = 2 << 20;
  private static final int MAX_GTID_LIST_BODY = 4 + 16 * MAX_GTID_SOURCES;
  /** A real GTID_TAGGED_LOG_EVENT body is under 200 bytes; a larger one is not written by any server. */
  public static final int MAX_TAGGED_GTID_BODY = 1024;
  private static final int QUERY_PREFIX = 512;
  private static final int INITIAL_CAPTURE = 256;

  private final String fileName;
  private final boolean failOnChecksumMismatch;

  // position and framing
  private long position;
  private final byte[] magic = new byte[4];
  private final byte[] header = new byte[HEADER_LEN];
  private int headerFill;
  private long payloadRemaining;
  private int trailerRemaining;
  private final byte[] trailer = new byte[4];
  private final CRC32 crc = new CRC32();
  private boolean crcActive;
  private boolean crcHeaderPending;
  private int headerOff;
  private byte[] capture = new byte[INITIAL_CAPTURE];
  private int captureFill;
  private int captureLimit;
  private RuntimeException failure;
  private boolean finished;

  // current event
  private long eventStart = -1;
  private int eventType;
  private long eventTimestamp;
  private long eventServerId;
  private long eventSize;
  private int eventTrailerLen;
  private boolean eventIsFirstFde;

  // file facts
  private boolean sawFormatDescription;
  private boolean fdeComplete;
  private boolean inUse;
  private boolean checksumCrc32;
  private String checksumAlgorithm;
  private String serverVersion;
  private int binlogVersion;
  private int lastType = -1;
  private long eventCount;
  private long transactionCount;
  private long compressedTransactionCount;
  private long unknownEventCount;
  private long unparsedGtidEventCount;
  private long checksumFailures;
  private String firstChecksumFailure;
  private long firstEventSecond;
  private long lastEventSecond;
  private long lastServerId = -1;
  private Instant firstCommitTime;
  private Instant lastCommitTime;
  private final TreeSet<Long> serverIds = new TreeSet<>();
  private final GtidSet.Builder gtids = new GtidSet.Builder(MAX_GTID_SOURCES, MAX_GTID_INTERVALS);
  private GtidSet previousGtids;
  // the source of the last GTID, kept so consecutive GTIDs of one server build no new strings
  private String lastUuidSource;
  private String lastDomainSource;
  private final byte[] lastGtidUuid = new byte[16];
  private String lastTaggedSource;
  private byte[] lastTaggedUuid;
  private String lastTag;
  private long lastGtidDomain = -1;
  private long lastGtidServer = -1;
  private boolean previousIsMariaDbList;
  private boolean previousUnparsed;
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
  /** Set by the finish: the file ended after a transaction's GTID or BEGIN but before its commit. */
  private boolean endedInsideTransaction;
  private long groupStart;
  private Instant groupPreciseCommit;
  private long groupLastTimestamp;

  /**
   * Creates a scanner for one file.
   *
   * @param fileName the file's name, used in error messages
   * @param failOnChecksumMismatch fail on a CRC32 mismatch ({@code true}) or only log and count it
   */
  public BinlogScanner(String fileName, boolean failOnChecksumMismatch) {
    this.fileName = Objects.requireNonNull(fileName, "fileName");
    this.failOnChecksumMismatch = failOnChecksumMismatch;
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
      consume(b, off, len);
    } catch (RuntimeException e) {
      failure = e;
      throw e;
    }
  }

  private void checkUsable() {
    if (failure != null) {
      throw new IllegalStateException(fileName + ": the scanner already failed: " + failure.getMessage(), failure);
    }
    if (finished) {
      throw new IllegalStateException(fileName + ": the scanner has already finished");
    }
  }

  private void consume(byte[] b, int off, int len) {
    int end = off + len;
    while (off < end) {
      if (position < 4) {
        int take = (int) Math.min(4 - position, end - off);
        System.arraycopy(b, off, magic, (int) position, take);
        off += take;
        position += take;
        if (position == 4 && !Arrays.equals(magic, MAGIC)) {
          throw new InvalidBinlogException(fileName + ": not a binary log: wrong magic bytes at offset 0");
        }
      } else if (payloadRemaining > 0) {
        int take = (int) Math.min(payloadRemaining, end - off);
        if (crcActive) {
          if (crcHeaderPending && headerOff + HEADER_LEN == off) {
            crc.update(b, headerOff, HEADER_LEN + take); // one call for header and payload: cheaper for small events
            crcHeaderPending = false;
          } else {
            flushHeaderCrc();
            crc.update(b, off, take);
          }
        }
        if (captureFill < captureLimit) {
          capture(b, off, Math.min(take, captureLimit - captureFill));
        }
        off += take;
        position += take;
        payloadRemaining -= take;
        if (payloadRemaining == 0 && trailerRemaining == 0) {
          endEvent();
        }
      } else if (trailerRemaining > 0) {
        flushHeaderCrc();
        int take = Math.min(trailerRemaining, end - off);
        System.arraycopy(b, off, trailer, 4 - trailerRemaining, take);
        off += take;
        position += take;
        trailerRemaining -= take;
        if (trailerRemaining == 0) {
          endEvent();
        }
      } else {
        int take = Math.min(HEADER_LEN - headerFill, end - off);
        System.arraycopy(b, off, header, headerFill, take);
        headerFill += take;
        off += take;
        position += take;
        if (headerFill == HEADER_LEN) {
          headerFill = 0;
          startEvent();
          if (crcActive) {
            // the header's CRC is folded into the payload's first update when both lie in b
            crcHeaderPending = true;
            headerOff = take == HEADER_LEN ? off - HEADER_LEN : -1 - HEADER_LEN;
          }
        }
      }
    }
    flushHeaderCrc(); // b may be reused by the caller once this call returns
  }

  private void flushHeaderCrc() {
    if (crcHeaderPending) {
      crc.update(header, 0, HEADER_LEN);
      crcHeaderPending = false;
    }
  }

  /** Copies into the capture buffer, growing it only by what has actually arrived. */
  private void capture(byte[] b, int off, int n) {
    int need = captureFill + n;
    if (need > capture.length) {
      capture = Arrays.copyOf(capture, Math.min(captureLimit, Math.max(need, capture.length * 2)));
    }
    System.arraycopy(b, off, capture, captureFill, n);
    captureFill += n;
  }

  private void startEvent() {
    eventStart = position - HEADER_LEN;
    eventTimestamp = u32(header, 0);
    eventType = header[4] & 0xff;
    eventServerId = u32(header, 5);
    eventSize = u32(header, 9);
    long endPosition = u32(header, 13);
    int flags = u16(header, 17);
    eventIsFirstFde = !sawFormatDescription;

    if (eventIsFirstFde) {
      if (eventType == START_EVENT_V3) {
        throw invalid("starts with a START_EVENT_V3: binlog format versions 1-3 (MySQL before 5.0) are not supported");
      }
      if (eventType != FORMAT_DESCRIPTION_EVENT) {
        throw invalid("the first event is " + typeName(eventType) + ", not a FORMAT_DESCRIPTION_EVENT");
      }
    }
    eventTrailerLen = !eventIsFirstFde && checksumCrc32 ? 4 : 0;
    if (eventSize < HEADER_LEN + eventTrailerLen) {
      throw invalid(typeName(eventType) + " declares size " + eventSize + ", smaller than its "
          + (HEADER_LEN + eventTrailerLen) + "-byte header" + (eventTrailerLen > 0 ? " and checksum" : ""));
    }
    if (endPosition != 0 && endPosition != ((eventStart + eventSize) & 0xffffffffL)) {
      throw invalid(typeName(eventType) + " of size " + eventSize + " says it ends at " + endPosition
          + ", but it would end at " + (eventStart + eventSize));
    }
    long payload = eventSize - HEADER_LEN - eventTrailerLen;

    if (eventIsFirstFde) {
      sawFormatDescription = true;
      inUse = (flags & LOG_EVENT_BINLOG_IN_USE_F) != 0;
      if (payload > MAX_FDE_BODY) {
        throw invalid("FORMAT_DESCRIPTION_EVENT declares " + payload + " bytes, more than the " + MAX_FDE_BODY + " a real one has");
      }
    }
    eventCount++;
    lastType = eventType;
    if (eventServerId != lastServerId) {
      lastServerId = eventServerId;
      if (serverIds.add(eventServerId) && serverIds.size() > MAX_SERVER_IDS) {
        throw invalid("more than " + MAX_SERVER_IDS + " distinct server ids in one file");
      }
    }
    if (eventTimestamp != 0) {
      if (firstEventSecond == 0) {
        firstEventSecond = eventTimestamp;
      }
      lastEventSecond = eventTimestamp;
    }

    captureFill = 0;
    captureLimit = 0;
    if (eventIsFirstFde) {
      captureLimit = (int) payload;
    } else {
      switch (eventType) {
        case GTID_LOG_EVENT, ANONYMOUS_GTID_LOG_EVENT -> captureLimit = 64;
        case MARIADB_GTID_EVENT -> captureLimit = 16;
        case QUERY_EVENT -> captureLimit = QUERY_PREFIX;
        case PREVIOUS_GTIDS_LOG_EVENT -> captureLimit = wholeBody(payload, MAX_PREVIOUS_GTIDS_BODY);
        case GTID_TAGGED_LOG_EVENT -> captureLimit = wholeBody(payload, MAX_TAGGED_GTID_BODY);
        case MARIADB_GTID_LIST_EVENT -> captureLimit = wholeBody(payload, MAX_GTID_LIST_BODY);
        case MARIADB_START_ENCRYPTION_EVENT -> throw invalid(
            "START_ENCRYPTION_EVENT: encrypted MariaDB binlogs (encrypt_binlog=ON) cannot be scanned");
        default -> captureLimit = 0;
      }
      captureLimit = (int) Math.min(captureLimit, payload);
    }
    crcActive = eventTrailerLen > 0;
    if (crcActive) {
      crc.reset();
    }
    payloadRemaining = payload;
    trailerRemaining = eventTrailerLen;
    if (payloadRemaining == 0 && trailerRemaining == 0) {
      endEvent();
    }
  }

  private int wholeBody(long payload, int cap) {
    if (payload > cap) {
      throw invalid(typeName(eventType) + " declares " + payload + " bytes, more than the scanner's limit of " + cap
          + (eventType == GTID_TAGGED_LOG_EVENT
              ? " (a real one is under 200)"
              : " (at most " + MAX_GTID_SOURCES + " GTID sources and " + MAX_GTID_INTERVALS + " intervals)"));
    }
    return (int) payload;
  }

  private void endEvent() {
    if (crcActive && crc.getValue() != u32(trailer, 0)) {
      checksumMismatch(u32(trailer, 0), crc.getValue());
    }
    int type = eventType;
    try {
      if (eventIsFirstFde) {
        readFormatDescription();
      } else {
        dispatch(type);
      }
    } catch (IllegalStateException | IllegalArgumentException e) {
      // the GTID set caps, or MySQL and MariaDB GTIDs mixed in one file
      throw invalid(typeName(type) + ": " + e.getMessage());
    }
    if (capture.length > (64 << 10)) {
      capture = new byte[INITIAL_CAPTURE];
    }
  }

  private void dispatch(int type) {
    long payload = eventSize - HEADER_LEN - eventTrailerLen;
    switch (type) {
      case GTID_LOG_EVENT, ANONYMOUS_GTID_LOG_EVENT -> readMysqlGtid(type, payload);
      case GTID_TAGGED_LOG_EVENT -> readTaggedGtid();
      case MARIADB_GTID_EVENT -> readMariaDbGtid(payload);
      case PREVIOUS_GTIDS_LOG_EVENT -> readPreviousGtids();
      case MARIADB_GTID_LIST_EVENT -> readGtidList();
      case QUERY_EVENT -> readQuery(payload);
      case XID_EVENT -> {
        groupEvent();
        closeGroup();
      }
      case TRANSACTION_PAYLOAD_EVENT -> {
        // the whole transaction, its commit included, compressed in one event
        compressedTransactionCount++;
        groupEvent();
        closeGroup();
      }
      case STOP_EVENT, ROTATE_EVENT, FORMAT_DESCRIPTION_EVENT, HEARTBEAT_LOG_EVENT, HEARTBEAT_LOG_EVENT_V2,
          MARIADB_BINLOG_CHECKPOINT_EVENT -> {
        // outside any transaction
      }
      default -> {
        if (type == 0 || (type > GTID_TAGGED_LOG_EVENT && type < MARIADB_ANNOTATE_ROWS_EVENT)
            || type > MARIADB_LAST_KNOWN_EVENT) {
          unknownEventCount++;
        } else {
          groupEvent();
        }
      }
    }
  }

  private void readFormatDescription() {
    byte[] body = capture;
    int len = captureFill;
    // binlog_version(2) server_version(50) create_timestamp(4) header_length(1) post-header lengths...
    if (len < 57) {
      throw invalid("FORMAT_DESCRIPTION_EVENT is " + len + " bytes long, too short to hold its fixed fields");
    }
    binlogVersion = u16(body, 0);
    if (binlogVersion != 4) {
      throw invalid("FORMAT_DESCRIPTION_EVENT declares binlog version " + binlogVersion + "; only version 4 is supported");
    }
    int n = 0;
    while (n < 50 && body[2 + n] != 0) {
      n++;
    }
    serverVersion = new String(body, 2, n, StandardCharsets.ISO_8859_1);
    int headerLength = body[56] & 0xff;
    if (headerLength != HEADER_LEN) {
      throw invalid("FORMAT_DESCRIPTION_EVENT declares " + headerLength + "-byte event headers; only 19 is supported");
    }
    if (!writesChecksums(serverVersion)) {
      checksumAlgorithm = "none";
    } else {
      if (len < 57 + 5) {
        throw invalid("FORMAT_DESCRIPTION_EVENT of server " + serverVersion + " is too short to hold its checksum algorithm");
      }
      int alg = body[len - 5] & 0xff;
      switch (alg) {
        case 0, 255 -> checksumAlgorithm = "none";
        case 1 -> {
          checksumAlgorithm = "crc32";
          checksumCrc32 = true;
          CRC32 c = new CRC32();
          byte[] masked = header.clone();
          masked[17] &= (byte) ~LOG_EVENT_BINLOG_IN_USE_F;
          c.update(masked, 0, HEADER_LEN);
          c.update(body, 0, len - 4);
          long stored = u32(body, len - 4);
          if (c.getValue() != stored) {
            checksumMismatch(stored, c.getValue());
          }
        }
        default -> throw invalid("FORMAT_DESCRIPTION_EVENT names unknown checksum algorithm " + alg);
      }
    }
    fdeComplete = true;
  }

  /** MySQL 5.6.1+ and MariaDB 5.3+ end the FORMAT_DESCRIPTION_EVENT with the checksum algorithm and a CRC. */
  static boolean writesChecksums(String version) {
    int[] v = new int[3];
    int part = 0;
    int i = 0;
    while (i < version.length() && part < 3) {
      char c = version.charAt(i++);
      if (c >= '0' && c <= '9') {
        v[part] = Math.min(v[part] * 10 + (c - '0'), 100_000);
      } else if (c == '.') {
        part++;
      } else {
        break;
      }
    }
    int number = v[0] * 10_000 + v[1] * 100 + v[2];
    boolean mariaDb = version.toLowerCase(Locale.ROOT).contains("mariadb");
    return mariaDb ? number >= 50300 : number >= 50601;
  }

  private void readMysqlGtid(int type, long payload) {
    // flags(1) uuid(16) gno(8) [lt_type(1) last_committed(8) sequence_number(8)] [immediate_commit_timestamp(7) ...]
    if (payload < 25) {
      throw invalid(typeName(type) + " is " + payload + " bytes long; it needs at least 25");
    }
    byte[] b = capture;
    if (type == GTID_LOG_EVENT) {
      long gno = s64(b, 17);
      if (gno < 1 || gno > GtidSet.MAX_SEQUENCE) {
        throw invalid("GTID_LOG_EVENT carries transaction number " + Long.toUnsignedString(gno) + ", outside 1.." + GtidSet.MAX_SEQUENCE);
      }
      if (lastUuidSource == null || !Arrays.equals(b, 1, 17, lastGtidUuid, 0, 16)) {
        System.arraycopy(b, 1, lastGtidUuid, 0, 16);
        lastUuidSource = uuid(b, 1);
      }
      addGtid(lastUuidSource, gno);
    }
    Instant precise = null;
    if (captureFill >= 42 + 7 && b[25] == 2) {
      long micros = u56(b, 42) & ~(1L << 55);
      if (micros != 0) {
        precise = Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
      }
    }
    openGroup(precise, true);
  }

  private void readTaggedGtid() {
    TaggedGtidCodec.TaggedGtid g = TaggedGtidCodec.decodeEvent(capture, captureFill);
    if (g == null) {
      // a newer serialization than MySQL 8.3 to 9.x write: see the class comment
      unparsedGtidEventCount++;
      openGroup(null, true);
      return;
    }
    if (g.tag().isEmpty()) {
      if (lastUuidSource == null || !Arrays.equals(g.uuid(), lastGtidUuid)) {
        System.arraycopy(g.uuid(), 0, lastGtidUuid, 0, 16);
        lastUuidSource = uuid(g.uuid(), 0);
      }
      addGtid(lastUuidSource, g.gno());
    } else {
      if (lastTaggedSource == null || !g.tag().equals(lastTag) || !Arrays.equals(g.uuid(), lastTaggedUuid)) {
        lastTaggedUuid = g.uuid();
        lastTag = g.tag();
        lastTaggedSource = uuid(g.uuid(), 0) + ":" + g.tag();
      }
      addGtid(lastTaggedSource, g.gno());
    }
    long micros = g.immediateCommitMicros();
    openGroup(micros == 0 ? null : Instant.EPOCH.plus(micros, ChronoUnit.MICROS), true);
  }

  private void readMariaDbGtid(long payload) {
    // seq_no(8) domain_id(4) flags2(1) ...
    if (payload < 13) {
      throw invalid("GTID_EVENT is " + payload + " bytes long; it needs at least 13");
    }
    long seq = s64(capture, 0);
    if (seq < 0 || seq > GtidSet.MAX_SEQUENCE) {
      throw invalid("GTID_EVENT carries sequence number " + Long.toUnsignedString(seq) + ", above the supported " + GtidSet.MAX_SEQUENCE);
    }
    long domain = u32(capture, 8);
    if (domain != lastGtidDomain || eventServerId != lastGtidServer || lastDomainSource == null) {
      lastGtidDomain = domain;
      lastGtidServer = eventServerId;
      lastDomainSource = GtidSet.mariaDbSource(domain, eventServerId);
    }
    addGtid(lastDomainSource, seq);
    openGroup(null, true);
  }

  private void addGtid(String source, long seq) {
    gtids.add(source, seq, seq);
    lastAddedSource = source;
    lastAddedSequence = seq;
    lastAddedAt = eventStart;
  }

  private void readPreviousGtids() {
    byte[] b = capture;
    int len = captureFill;
    if (previousGtids != null || previousUnparsed) {
      return; // a binlog has one; later ones (relay-log style) do not change where the file starts
    }
    if (len < 8) {
      throw invalid("PREVIOUS_GTIDS_LOG_EVENT is " + len + " bytes long; it needs at least 8");
    }
    // number of sources; MySQL 8.3+ puts a format in the top byte: 0 untagged, 1 tagged, where the
    // count moves to bits 8..55 and each UUID is followed by its tag (sql/rpl_gtid_set.cc)
    long word = s64(b, 0);
    long format = word >>> 56;
    boolean tagged = format == 1;
    if (format > 1) {
      // a format newer than MySQL 9.x writes: not decoded (see the class comment)
      unparsedGtidEventCount++;
      previousUnparsed = true;
      return;
    }
    long count = tagged ? (word >>> 8) & 0xffff_ffff_ffffL : word;
    if (count > MAX_GTID_SOURCES) {
      throw invalid("PREVIOUS_GTIDS_LOG_EVENT lists " + count + " server UUIDs, more than the limit of " + MAX_GTID_SOURCES);
    }
    GtidSet.Builder set = new GtidSet.Builder(MAX_GTID_SOURCES, MAX_GTID_INTERVALS);
    int p = 8;
    for (long i = 0; i < count; i++) {
      if (len - p < (tagged ? 25 : 24)) {
        throw invalid("PREVIOUS_GTIDS_LOG_EVENT ends inside the entry of UUID number " + (i + 1));
      }
      String uuid = uuid(b, p);
      p += 16;
      if (tagged) {
        TaggedGtidCodec.Reader r = new TaggedGtidCodec.Reader(b, p, len);
        String tag = r.tag("the tag of UUID number " + (i + 1));
        p = r.position();
        if (!tag.isEmpty()) {
          uuid = uuid + ":" + tag;
        }
        if (len - p < 8) {
          throw invalid("PREVIOUS_GTIDS_LOG_EVENT ends inside the entry of " + uuid);
        }
      }
      long intervals = s64(b, p);
      p += 8;
      if (intervals < 0 || intervals > (len - p) / 16) {
        throw invalid("PREVIOUS_GTIDS_LOG_EVENT declares " + Long.toUnsignedString(intervals) + " intervals for " + uuid
            + " but has room for " + (len - p) / 16);
      }
      for (long k = 0; k < intervals; k++) {
        long start = s64(b, p);
        long endExclusive = s64(b, p + 8);
        p += 16;
        if (start < 1 || endExclusive <= start || endExclusive - 1 > GtidSet.MAX_SEQUENCE) {
          throw invalid("PREVIOUS_GTIDS_LOG_EVENT holds the invalid interval [" + start + ", " + endExclusive + ") for " + uuid);
        }
        set.add(uuid, start, endExclusive - 1);
      }
    }
    if (p != len) {
      throw invalid("PREVIOUS_GTIDS_LOG_EVENT has " + (len - p) + " bytes after its last interval");
    }
    previousGtids = set.build();
  }

  private void readGtidList() {
    byte[] b = capture;
    int len = captureFill;
    if (previousGtids != null || previousUnparsed) {
      return;
    }
    if (len < 4) {
      throw invalid("GTID_LIST_EVENT is " + len + " bytes long; it needs at least 4");
    }
    long count = u32(b, 0) & 0x0fffffffL; // the top 4 bits are flags
    if (count > MAX_GTID_SOURCES) {
      throw invalid("GTID_LIST_EVENT lists " + count + " GTIDs, more than the limit of " + MAX_GTID_SOURCES);
    }
    if (len < 4 + 16 * count) {
      throw invalid("GTID_LIST_EVENT lists " + count + " GTIDs but holds only " + len + " bytes");
    }
    GtidSet.Builder set = new GtidSet.Builder(MAX_GTID_SOURCES, MAX_GTID_INTERVALS);
    for (int i = 0; i < count; i++) {
      int p = 4 + 16 * i;
      long seq = s64(b, p + 8);
      if (seq < 0 || seq > GtidSet.MAX_SEQUENCE) {
        throw invalid("GTID_LIST_EVENT holds sequence number " + Long.toUnsignedString(seq) + ", above the supported " + GtidSet.MAX_SEQUENCE);
      }
      set.add(GtidSet.mariaDbSource(u32(b, p), u32(b, p + 4)), seq, seq);
    }
    previousGtids = set.build();
    previousIsMariaDbList = true;
  }

  private void readQuery(long payload) {
    // thread_id(4) exec_time(4) db_len(1) error_code(2) status_vars_len(2) status_vars db NUL query
    groupEvent();
    if (captureFill < 13) {
      return;
    }
    long queryStart = 13L + u16(capture, 11) + (capture[8] & 0xff) + 1;
    long queryLen = payload - queryStart;
    if (queryLen == 5 && queryStart + 5 <= captureFill && matches(capture, (int) queryStart, "BEGIN")) {
      if (groupOpen && groupFromGtid && !groupSawBegin) {
        groupSawBegin = true;
      } else {
        openGroup(null, false);
        groupSawBegin = true;
      }
    } else if (queryLen == 6 && queryStart + 6 <= captureFill && matches(capture, (int) queryStart, "COMMIT")) {
      closeGroup();
    } else {
      groupSawStatement = true;
    }
  }

  private static boolean matches(byte[] b, int off, String ascii) {
    for (int i = 0; i < ascii.length(); i++) {
      if (b[off + i] != ascii.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private void openGroup(Instant preciseCommit, boolean fromGtid) {
    closeGroup();
    transactionCount++;
    groupOpen = true;
    groupFromGtid = fromGtid;
    groupSawBegin = false;
    groupSawStatement = false;
    groupStart = eventStart;
    groupPreciseCommit = preciseCommit;
    groupLastTimestamp = eventTimestamp;
  }

  /** An event inside the current transaction: its time is the transaction's latest. */
  private void groupEvent() {
    if (groupOpen && eventTimestamp != 0) {
      groupLastTimestamp = eventTimestamp;
    }
  }

  private void closeGroup() {
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

  private void checksumMismatch(long stored, long computed) {
    String message = fileName + ": CRC32 mismatch in the " + typeName(eventType) + " at offset " + eventStart
        + ": stored 0x" + Long.toHexString(stored) + ", computed 0x" + Long.toHexString(computed);
    if (failOnChecksumMismatch) {
      throw new IntegrityException(message);
    }
    if (checksumFailures++ == 0) {
      firstChecksumFailure = message;
    }
  }

  private InvalidBinlogException invalid(String what) {
    return new InvalidBinlogException(fileName + ": invalid binlog at offset " + eventStart + ": " + what);
  }

  /**
   * Whether the FORMAT_DESCRIPTION_EVENT's header has been read, so {@link #inUse()} is known.
   *
   * @return {@code true} once the first event's header has been fed
   */
  public boolean headerRead() {
    return sawFormatDescription;
  }

  /**
   * Whether the file's in-use flag is set (the server was still writing it when it was copied).
   *
   * @return the flag from the FORMAT_DESCRIPTION_EVENT header; {@code false} before {@link #headerRead()}
   */
  public boolean inUse() {
    return inUse;
  }

  /**
   * How many bytes have been fed.
   *
   * @return the offset in the file of the next byte expected
   */
  public long position() {
    return position;
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
  /**
   * After a finish: whether the file ended inside a transaction (after its GTID or BEGIN, before
   * its commit). A file that ends between transactions without a ROTATE or STOP is what MySQL's
   * crash recovery leaves: it truncates the crashed binlog to its last complete transaction.
   */
  public boolean endedInsideTransaction() {
    return endedInsideTransaction;
  }

  public BinlogInfo finishCrashed() {
    return finish(true);
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
    if (position < 4) {
      throw new InvalidBinlogException(fileName + ": truncated: " + position + " bytes, shorter than the 4-byte magic");
    }
    long end = position;
    boolean dropLastGtid = false;
    if (crashed && fdeComplete) {
      if (headerFill != 0) {
        end = position - headerFill;
      } else if (payloadRemaining != 0 || trailerRemaining != 0) {
        end = eventStart;
        eventCount--; // counted when its header arrived; the rest never did
      }
      headerFill = 0;
      payloadRemaining = 0;
      trailerRemaining = 0;
      if (groupOpen && (groupSawBegin || !groupSawStatement)) {
        // no commit in the file: recovery rolled the transaction back
        groupOpen = false;
        transactionCount--;
        dropLastGtid = lastAddedAt == groupStart; // anonymous and undecoded tagged GTID events add none
      }
    }
    if (headerFill != 0) {
      throw new InvalidBinlogException(fileName + ": truncated: the file ends at offset " + position
          + " inside the header of the event that starts at offset " + (position - headerFill));
    }
    if (payloadRemaining != 0 || trailerRemaining != 0) {
      throw new InvalidBinlogException(fileName + ": truncated: the file ends at offset " + position + " inside the "
          + typeName(eventType) + " that starts at offset " + eventStart + " and declares " + eventSize + " bytes");
    }
    if (!sawFormatDescription || !fdeComplete) {
      throw new InvalidBinlogException(fileName + ": truncated: no events after the magic bytes");
    }
    endedInsideTransaction = groupOpen && (groupSawBegin || !groupSawStatement);
    closeGroup();
    GtidSet added = gtids.build();
    if (dropLastGtid) {
      GtidSet.Builder last = new GtidSet.Builder(1, 1);
      last.add(lastAddedSource, lastAddedSequence, lastAddedSequence);
      added = added.subtract(last.build());
    }
    if (checksumFailures > 0) {
      // one line per file, not per event: a corrupt file can hold millions of events
      Logger log = LoggerFactory.getLogger(BinlogScanner.class);
      log.warn("binlog checksum mismatch: {} event(s) of {} failed CRC32, the first: {} binlog_filename={} checksum_status=mismatch",
          checksumFailures, fileName, firstChecksumFailure, fileName);
    }
    boolean closed = !inUse && (lastType == ROTATE_EVENT || lastType == STOP_EVENT);
    String flavor = serverVersion.toLowerCase(Locale.ROOT).contains("mariadb") ? "mariadb" : "mysql";
    String previous = null;
    if (previousGtids != null) {
      previous = previousIsMariaDbList ? mariaDbList(previousGtids) : previousGtids.toString();
    }
    return new BinlogInfo(
        flavor,
        serverVersion,
        binlogVersion,
        checksumAlgorithm,
        inUse,
        closed,
        firstEventSecond == 0 ? null : Instant.ofEpochSecond(firstEventSecond),
        lastEventSecond == 0 ? null : Instant.ofEpochSecond(lastEventSecond),
        firstCommitTime,
        lastCommitTime,
        previous,
        added.toString(),
        new ArrayList<>(serverIds),
        eventCount,
        transactionCount,
        compressedTransactionCount,
        unknownEventCount,
        checksumFailures,
        end,
        unparsedGtidEventCount);
  }

  /** MariaDB's own GTID list form, {@code domain-server-seq,...}: one GTID per domain-server pair. */
  public static String mariaDbList(GtidSet list) {
    StringBuilder sb = new StringBuilder();
    list.lastSequences().forEach((source, seq) -> {
      if (sb.length() > 0) {
        sb.append(',');
      }
      sb.append(source).append('-').append(seq);
    });
    return sb.toString();
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

  private static String uuid(byte[] b, int off) {
    StringBuilder sb = new StringBuilder(36);
    for (int i = 0; i < 16; i++) {
      if (i == 4 || i == 6 || i == 8 || i == 10) {
        sb.append('-');
      }
      int v = b[off + i] & 0xff;
      sb.append(Character.forDigit(v >> 4, 16)).append(Character.forDigit(v & 0xf, 16));
    }
    return sb.toString();
  }

  private static int u16(byte[] b, int i) {
    return (b[i] & 0xff) | (b[i + 1] & 0xff) << 8;
  }

  private static long u32(byte[] b, int i) {
    return (b[i] & 0xffL) | (b[i + 1] & 0xffL) << 8 | (b[i + 2] & 0xffL) << 16 | (b[i + 3] & 0xffL) << 24;
  }

  private static long u56(byte[] b, int i) {
    return u32(b, i) | (b[i + 4] & 0xffL) << 32 | (b[i + 5] & 0xffL) << 40 | (b[i + 6] & 0xffL) << 48;
  }

  private static long s64(byte[] b, int i) {
    return u32(b, i) | u32(b, i + 4) << 32;
  }
}
