package io.binlogarchive.binlog;

import static io.binlogarchive.internal.binlog.BinlogBytes.s64;
import static io.binlogarchive.internal.binlog.BinlogBytes.u16;
import static io.binlogarchive.internal.binlog.BinlogBytes.u32;
import static io.binlogarchive.internal.binlog.BinlogBytes.u56;
import static io.binlogarchive.internal.binlog.BinlogBytes.uuid;
import static io.binlogarchive.binlog.BinlogScanner.*;

import io.binlogarchive.internal.binlog.GtidState;
import io.binlogarchive.internal.binlog.TaggedGtidCodec;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.CRC32;

/**
 * The decoding part of {@link BinlogScanner}: for each event type it reads, says how much of the
 * body the {@link EventFramer} must capture, then decodes it: the FORMAT_DESCRIPTION_EVENT (binlog
 * version, server version, checksum algorithm), the GTID events of MySQL (plain, anonymous and
 * tagged) and MariaDB, PREVIOUS_GTIDS and GTID_LIST, QUERY as far as {@code BEGIN} and {@code
 * COMMIT}, XID and compressed transactions. What an event means for transactions it passes to the
 * {@link TransactionTracker}.
 *
 * <p>Consecutive GTIDs of one source reuse the source's string, so the common case allocates only
 * in the GTID set's own interval merging.
 */
final class EventDecoder {
  private static final int MAX_GTID_LIST_BODY = 4 + 16 * MAX_GTID_SOURCES;
  private static final int QUERY_PREFIX = 512;

  private final EventFramer framer;
  private final TransactionTracker tracker;

  // what the FORMAT_DESCRIPTION_EVENT says
  private boolean fdeComplete;
  private String checksumAlgorithm;
  private String serverVersion;
  private int binlogVersion;

  private long compressedTransactionCount;
  private long unknownEventCount;
  private long unparsedGtidEventCount;
  private GtidSet previousGtids;
  private boolean previousIsMariaDbList;
  private boolean previousUnparsed;

  // the source of the last GTID, kept so consecutive GTIDs of one server build no new strings
  private String lastUuidSource;
  private String lastDomainSource;
  private final byte[] lastGtidUuid = new byte[16];
  private String lastTaggedSource;
  private byte[] lastTaggedUuid;
  private String lastTag;
  private long lastGtidDomain = -1;
  private long lastGtidServer = -1;

  EventDecoder(EventFramer framer, TransactionTracker tracker) {
    this.framer = framer;
    this.tracker = tracker;
  }

  /**
   * The header of the framer's current event has been read.
   *
   * @param payload the event's body length
   * @return how many bytes of the body to capture for {@link #endEvent()}
   */
  int startEvent(long payload) {
    int type = framer.eventType();
    if (!tracker.countEvent(type, framer.eventServerId(), framer.eventTimestamp())) {
      throw framer.invalid("more than " + MAX_SERVER_IDS + " distinct server ids in one file");
    }
    if (framer.eventIsFirstFde()) {
      return (int) payload; // at most MAX_FDE_BODY, checked by the framer
    }
    return switch (type) {
      case GTID_LOG_EVENT, ANONYMOUS_GTID_LOG_EVENT -> 64;
      case MARIADB_GTID_EVENT -> 16;
      case QUERY_EVENT -> QUERY_PREFIX;
      case PREVIOUS_GTIDS_LOG_EVENT -> wholeBody(type, payload, MAX_PREVIOUS_GTIDS_BODY);
      case GTID_TAGGED_LOG_EVENT -> wholeBody(type, payload, MAX_TAGGED_GTID_BODY);
      case MARIADB_GTID_LIST_EVENT -> wholeBody(type, payload, MAX_GTID_LIST_BODY);
      case MARIADB_START_ENCRYPTION_EVENT -> throw framer.invalid(
          "START_ENCRYPTION_EVENT: encrypted MariaDB binlogs (encrypt_binlog=ON) cannot be scanned");
      default -> 0;
    };
  }

  private int wholeBody(int type, long payload, int cap) {
    if (payload > cap) {
      throw framer.invalid(typeName(type) + " declares " + payload + " bytes, more than the scanner's limit of " + cap
          + (type == GTID_TAGGED_LOG_EVENT
              ? " (a real one is under 200)"
              : " (at most " + MAX_GTID_SOURCES + " GTID sources and " + MAX_GTID_INTERVALS + " intervals)"));
    }
    return (int) payload;
  }

  /** The framer's current event is complete (and its checksum checked): decodes it. */
  void endEvent() {
    int type = framer.eventType();
    try {
      if (framer.eventIsFirstFde()) {
        readFormatDescription();
      } else {
        dispatch(type);
      }
    } catch (IllegalStateException | IllegalArgumentException e) {
      // the GTID set caps, or MySQL and MariaDB GTIDs mixed in one file
      throw framer.invalid(typeName(type) + ": " + e.getMessage());
    }
  }

  private void dispatch(int type) {
    switch (type) {
      case GTID_LOG_EVENT, ANONYMOUS_GTID_LOG_EVENT -> readMysqlGtid(type, framer.payload());
      case GTID_TAGGED_LOG_EVENT -> readTaggedGtid();
      case MARIADB_GTID_EVENT -> readMariaDbGtid(framer.payload());
      case PREVIOUS_GTIDS_LOG_EVENT -> readPreviousGtids();
      case MARIADB_GTID_LIST_EVENT -> readGtidList();
      case QUERY_EVENT -> readQuery(framer.payload());
      case XID_EVENT -> {
        tracker.groupEvent();
        tracker.closeGroup();
      }
      case TRANSACTION_PAYLOAD_EVENT -> {
        // the whole transaction, its commit included, compressed in one event
        compressedTransactionCount++;
        tracker.groupEvent();
        tracker.closeGroup();
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
          tracker.groupEvent();
        }
      }
    }
  }

  private void readFormatDescription() {
    byte[] body = framer.capture();
    int len = framer.captureFill();
    // binlog_version(2) server_version(50) create_timestamp(4) header_length(1) post-header lengths...
    if (len < 57) {
      throw framer.invalid("FORMAT_DESCRIPTION_EVENT is " + len + " bytes long, too short to hold its fixed fields");
    }
    binlogVersion = u16(body, 0);
    if (binlogVersion != 4) {
      throw framer.invalid("FORMAT_DESCRIPTION_EVENT declares binlog version " + binlogVersion + "; only version 4 is supported");
    }
    int n = 0;
    while (n < 50 && body[2 + n] != 0) {
      n++;
    }
    serverVersion = new String(body, 2, n, StandardCharsets.ISO_8859_1);
    int headerLength = body[56] & 0xff;
    if (headerLength != HEADER_LEN) {
      throw framer.invalid("FORMAT_DESCRIPTION_EVENT declares " + headerLength + "-byte event headers; only 19 is supported");
    }
    if (!writesChecksums(serverVersion)) {
      checksumAlgorithm = "none";
    } else {
      if (len < 57 + 5) {
        throw framer.invalid("FORMAT_DESCRIPTION_EVENT of server " + serverVersion + " is too short to hold its checksum algorithm");
      }
      int alg = body[len - 5] & 0xff;
      switch (alg) {
        case 0, 255 -> checksumAlgorithm = "none";
        case 1 -> {
          checksumAlgorithm = "crc32";
          framer.checksumsFollow();
          // both servers compute this event's CRC with the in-use flag cleared
          CRC32 c = new CRC32();
          byte[] masked = framer.header().clone();
          masked[17] &= (byte) ~LOG_EVENT_BINLOG_IN_USE_F;
          c.update(masked, 0, HEADER_LEN);
          c.update(body, 0, len - 4);
          long stored = u32(body, len - 4);
          if (c.getValue() != stored) {
            framer.checksumMismatch(stored, c.getValue());
          }
        }
        default -> throw framer.invalid("FORMAT_DESCRIPTION_EVENT names unknown checksum algorithm " + alg);
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
      throw framer.invalid(typeName(type) + " is " + payload + " bytes long; it needs at least 25");
    }
    byte[] b = framer.capture();
    if (type == GTID_LOG_EVENT) {
      long gno = s64(b, 17);
      if (gno < 1 || gno > GtidSet.MAX_SEQUENCE) {
        throw framer.invalid("GTID_LOG_EVENT carries transaction number " + Long.toUnsignedString(gno) + ", outside 1.."
            + GtidSet.MAX_SEQUENCE);
      }
      if (lastUuidSource == null || !Arrays.equals(b, 1, 17, lastGtidUuid, 0, 16)) {
        System.arraycopy(b, 1, lastGtidUuid, 0, 16);
        lastUuidSource = uuid(b, 1);
      }
      tracker.addGtid(lastUuidSource, gno);
    }
    Instant precise = null;
    if (framer.captureFill() >= 42 + 7 && b[25] == 2) {
      long micros = u56(b, 42) & ~(1L << 55);
      if (micros != 0) {
        precise = Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
      }
    }
    tracker.openGroup(precise, true);
  }

  private void readTaggedGtid() {
    TaggedGtidCodec.TaggedGtid g = TaggedGtidCodec.decodeEvent(framer.capture(), framer.captureFill());
    if (g == null) {
      // a newer serialization than MySQL 8.3 to 9.x write: see BinlogScanner's class comment
      unparsedGtidEventCount++;
      tracker.openGroup(null, true);
      return;
    }
    if (g.tag().isEmpty()) {
      if (lastUuidSource == null || !Arrays.equals(g.uuid(), lastGtidUuid)) {
        System.arraycopy(g.uuid(), 0, lastGtidUuid, 0, 16);
        lastUuidSource = uuid(g.uuid(), 0);
      }
      tracker.addGtid(lastUuidSource, g.gno());
    } else {
      if (lastTaggedSource == null || !g.tag().equals(lastTag) || !Arrays.equals(g.uuid(), lastTaggedUuid)) {
        lastTaggedUuid = g.uuid();
        lastTag = g.tag();
        lastTaggedSource = uuid(g.uuid(), 0) + ":" + g.tag();
      }
      tracker.addGtid(lastTaggedSource, g.gno());
    }
    long micros = g.immediateCommitMicros();
    tracker.openGroup(micros == 0 ? null : Instant.EPOCH.plus(micros, ChronoUnit.MICROS), true);
  }

  private void readMariaDbGtid(long payload) {
    // seq_no(8) domain_id(4) flags2(1) ...
    if (payload < 13) {
      throw framer.invalid("GTID_EVENT is " + payload + " bytes long; it needs at least 13");
    }
    byte[] capture = framer.capture();
    long seq = s64(capture, 0);
    if (seq < 0 || seq > GtidSet.MAX_SEQUENCE) {
      throw framer.invalid("GTID_EVENT carries sequence number " + Long.toUnsignedString(seq) + ", above the supported "
          + GtidSet.MAX_SEQUENCE);
    }
    long domain = u32(capture, 8);
    long serverId = framer.eventServerId();
    if (domain != lastGtidDomain || serverId != lastGtidServer || lastDomainSource == null) {
      lastGtidDomain = domain;
      lastGtidServer = serverId;
      lastDomainSource = GtidSet.mariaDbSource(domain, serverId);
    }
    tracker.addGtid(lastDomainSource, seq);
    tracker.openGroup(null, true);
  }

  private void readPreviousGtids() {
    byte[] b = framer.capture();
    int len = framer.captureFill();
    if (previousGtids != null || previousUnparsed) {
      return; // a binlog has one; later ones (relay-log style) do not change where the file starts
    }
    if (len < 8) {
      throw framer.invalid("PREVIOUS_GTIDS_LOG_EVENT is " + len + " bytes long; it needs at least 8");
    }
    // number of sources; MySQL 8.3+ puts a format in the top byte: 0 untagged, 1 tagged, where the
    // count moves to bits 8..55 and each UUID is followed by its tag (sql/rpl_gtid_set.cc)
    long word = s64(b, 0);
    long format = word >>> 56;
    boolean tagged = format == 1;
    if (format > 1) {
      // a format newer than MySQL 9.x writes: not decoded (see BinlogScanner's class comment)
      unparsedGtidEventCount++;
      previousUnparsed = true;
      return;
    }
    long count = tagged ? (word >>> 8) & 0xffff_ffff_ffffL : word;
    if (count > MAX_GTID_SOURCES) {
      throw framer.invalid("PREVIOUS_GTIDS_LOG_EVENT lists " + count + " server UUIDs, more than the limit of "
          + MAX_GTID_SOURCES);
    }
    GtidSet.Builder set = new GtidSet.Builder(MAX_GTID_SOURCES, MAX_GTID_INTERVALS);
    int p = 8;
    for (long i = 0; i < count; i++) {
      if (len - p < (tagged ? 25 : 24)) {
        throw framer.invalid("PREVIOUS_GTIDS_LOG_EVENT ends inside the entry of UUID number " + (i + 1));
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
          throw framer.invalid("PREVIOUS_GTIDS_LOG_EVENT ends inside the entry of " + uuid);
        }
      }
      long intervals = s64(b, p);
      p += 8;
      if (intervals < 0 || intervals > (len - p) / 16) {
        throw framer.invalid("PREVIOUS_GTIDS_LOG_EVENT declares " + Long.toUnsignedString(intervals) + " intervals for "
            + uuid + " but has room for " + (len - p) / 16);
      }
      for (long k = 0; k < intervals; k++) {
        long start = s64(b, p);
        long endExclusive = s64(b, p + 8);
        p += 16;
        if (start < 1 || endExclusive <= start || endExclusive - 1 > GtidSet.MAX_SEQUENCE) {
          throw framer.invalid("PREVIOUS_GTIDS_LOG_EVENT holds the invalid interval [" + start + ", " + endExclusive
              + ") for " + uuid);
        }
        set.add(uuid, start, endExclusive - 1);
      }
    }
    if (p != len) {
      throw framer.invalid("PREVIOUS_GTIDS_LOG_EVENT has " + (len - p) + " bytes after its last interval");
    }
    previousGtids = set.build();
  }

  private void readGtidList() {
    byte[] b = framer.capture();
    int len = framer.captureFill();
    if (previousGtids != null || previousUnparsed) {
      return;
    }
    if (len < 4) {
      throw framer.invalid("GTID_LIST_EVENT is " + len + " bytes long; it needs at least 4");
    }
    long count = u32(b, 0) & 0x0fffffffL; // the top 4 bits are flags
    if (count > MAX_GTID_SOURCES) {
      throw framer.invalid("GTID_LIST_EVENT lists " + count + " GTIDs, more than the limit of " + MAX_GTID_SOURCES);
    }
    if (len < 4 + 16 * count) {
      throw framer.invalid("GTID_LIST_EVENT lists " + count + " GTIDs but holds only " + len + " bytes");
    }
    GtidSet.Builder set = new GtidSet.Builder(MAX_GTID_SOURCES, MAX_GTID_INTERVALS);
    for (int i = 0; i < count; i++) {
      int p = 4 + 16 * i;
      long seq = s64(b, p + 8);
      if (seq < 0 || seq > GtidSet.MAX_SEQUENCE) {
        throw framer.invalid("GTID_LIST_EVENT holds sequence number " + Long.toUnsignedString(seq)
            + ", above the supported " + GtidSet.MAX_SEQUENCE);
      }
      set.add(GtidSet.mariaDbSource(u32(b, p), u32(b, p + 4)), seq, seq);
    }
    previousGtids = set.build();
    previousIsMariaDbList = true;
  }

  private void readQuery(long payload) {
    // thread_id(4) exec_time(4) db_len(1) error_code(2) status_vars_len(2) status_vars db NUL query
    tracker.groupEvent();
    byte[] capture = framer.capture();
    int captureFill = framer.captureFill();
    if (captureFill < 13) {
      return;
    }
    long queryStart = 13L + u16(capture, 11) + (capture[8] & 0xff) + 1;
    long queryLen = payload - queryStart;
    if (queryLen == 5 && queryStart + 5 <= captureFill && matches(capture, (int) queryStart, "BEGIN")) {
      tracker.begin();
    } else if (queryLen == 6 && queryStart + 6 <= captureFill && matches(capture, (int) queryStart, "COMMIT")) {
      tracker.closeGroup();
    } else {
      tracker.statement();
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

  boolean formatDescriptionComplete() {
    return fdeComplete;
  }

  String serverVersion() {
    return serverVersion;
  }

  int binlogVersion() {
    return binlogVersion;
  }

  String checksumAlgorithm() {
    return checksumAlgorithm;
  }

  long compressedTransactionCount() {
    return compressedTransactionCount;
  }

  long unknownEventCount() {
    return unknownEventCount;
  }

  long unparsedGtidEventCount() {
    return unparsedGtidEventCount;
  }

  /** The GTIDs before this file, in the form its server writes them; null if the file has none. */
  String previousGtids() {
    if (previousGtids == null) {
      return null;
    }
    return previousIsMariaDbList ? GtidState.mariaDbList(previousGtids) : previousGtids.toString();
  }
}
