package io.binlogarchive.binlog;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What one scan of a binary log found, recorded in the sidecar so restores can be planned without
 * downloading anything.
 *
 * <p>GTID fields use the text forms of {@link GtidSet}: MySQL {@code uuid:1-100,uuid2:5}; MariaDB
 * {@code domain-server:first-last} (so the GTIDs {@code 0-3-1} to {@code 0-3-3476} read {@code
 * 0-3:1-3476}). An empty string means "none"; {@code null} means "not known".
 *
 * @param flavor {@code mysql} or {@code mariadb}
 * @param serverVersion the server version from the FORMAT_DESCRIPTION_EVENT
 * @param binlogVersion the binlog format version (4)
 * @param checksumAlgorithm {@code crc32} or {@code none}
 * @param inUse whether the in-use flag was still set (the file was copied while open, or a server
 *     crash left it so: see {@link BinlogScanner}'s crashed-file scan)
 * @param closed in-use flag cleared and the last event is ROTATE or STOP
 * @param firstEventTime timestamp of the first event
 * @param lastEventTime timestamp of the last event
 * @param firstCommitTime commit time of the first transaction in the file (may be {@code null}):
 *     MySQL 8.0+'s {@code immediate_commit_timestamp} (microseconds), else the second-resolution
 *     timestamp of the transaction's last event (XID or COMMIT); see {@link BinlogScanner}
 * @param lastCommitTime commit time of the last transaction in the file (may be {@code null})
 * @param previousGtids where the file starts: for MySQL the PREVIOUS_GTIDS set ({@code
 *     uuid:1-100}); for MariaDB the GTID_LIST in MariaDB's own list form {@code
 *     domain-server-seq,...}, the last GTID of each domain-server pair before this file (the
 *     server's {@code gtid_binlog_state}); {@code null} if the file has no such event or it could
 *     not be decoded
 * @param gtids the GTID set the file adds, in {@link GtidSet} form (empty if it has none)
 * @param serverIds server ids seen in event headers, ascending
 * @param eventCount number of events, the FORMAT_DESCRIPTION_EVENT included
 * @param transactionCount number of transactions: GTID events (anonymous and tagged included),
 *     plus {@code BEGIN}-started groups without a GTID event
 * @param compressedTransactionCount number of TRANSACTION_PAYLOAD events
 * @param unknownEventCount events of types the scanner does not know (skipped)
 * @param checksumFailures events whose CRC32 did not match (only when configured to warn)
 * @param endPosition offset just past the last complete event: the file's length, except in a file
 *     a server crash cut inside an event
 * @param unparsedGtidEventCount GTID_TAGGED_LOG_EVENT and PREVIOUS_GTIDS events the scanner counted
 *     but did not decode because they use an encoding newer than MySQL 8.3 to 9.x write (tagged
 *     GTIDs in the known encoding are decoded into the GTID fields); when non-zero the GTID fields
 *     are incomplete
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BinlogInfo(
    @JsonProperty("flavor") String flavor,
    @JsonProperty("server_version") String serverVersion,
    @JsonProperty("binlog_version") int binlogVersion,
    @JsonProperty("checksum_algorithm") String checksumAlgorithm,
    @JsonProperty("in_use") boolean inUse,
    @JsonProperty("closed") boolean closed,
    @JsonProperty("first_event_time") Instant firstEventTime,
    @JsonProperty("last_event_time") Instant lastEventTime,
    @JsonProperty("first_commit_time") Instant firstCommitTime,
    @JsonProperty("last_commit_time") Instant lastCommitTime,
    @JsonProperty("previous_gtids") String previousGtids,
    @JsonProperty("gtids") String gtids,
    @JsonProperty("server_ids") List<Long> serverIds,
    @JsonProperty("event_count") long eventCount,
    @JsonProperty("transaction_count") long transactionCount,
    @JsonProperty("compressed_transaction_count") long compressedTransactionCount,
    @JsonProperty("unknown_event_count") long unknownEventCount,
    @JsonProperty("checksum_failures") long checksumFailures,
    @JsonProperty("end_position") long endPosition,
    @JsonProperty("unparsed_gtid_event_count") long unparsedGtidEventCount) {

  /**
   * Checks that {@code next} starts exactly where {@code previous} ends, for two consecutive
   * binlogs of one server (the chain check of restore planning and archive verification).
   *
   * <ul>
   *   <li>MySQL: the PREVIOUS_GTIDS set of {@code next} must equal the PREVIOUS_GTIDS set of {@code
   *       previous} united with the GTIDs {@code previous} adds.
   *   <li>MariaDB: the GTID_LIST of {@code next} must equal the GTID_LIST of {@code previous} with,
   *       for every domain-server pair {@code previous} wrote GTIDs for, the last of them.
   * </ul>
   *
   * <p>The answer is a problem (never an empty result) whenever continuity cannot be proven: the
   * flavours differ, a file lacks its previous-GTID information, or holds GTIDs the scanner could
   * not decode. Files written with GTIDs disabled (MySQL {@code gtid_mode=OFF}) have empty sets
   * throughout and pass trivially: the check then proves nothing about them.
   *
   * @param previous the earlier file's scan result
   * @param next the scan result of the file that follows it
   * @return empty if {@code next} continues {@code previous}; otherwise a sentence saying what
   *     differs
   */
  public static Optional<String> continuityProblem(BinlogInfo previous, BinlogInfo next) {
    if (!previous.flavor().equals(next.flavor())) {
      return Optional.of("the files come from different server flavours (" + previous.flavor() + ", then " + next.flavor() + ")");
    }
    if (previous.unparsedGtidEventCount() > 0 || next.unparsedGtidEventCount() > 0) {
      return Optional.of("cannot verify: a file holds GTID events in an encoding the scanner does not decode");
    }
    if (previous.previousGtids() == null || next.previousGtids() == null || previous.gtids() == null) {
      return Optional.of("cannot verify: a file has no "
          + (previous.flavor().equals("mariadb") ? "GTID_LIST" : "PREVIOUS_GTIDS") + " event");
    }
    GtidSet prevStart = GtidSet.parse(previous.previousGtids());
    GtidSet added = GtidSet.parse(previous.gtids());
    GtidSet nextStart = GtidSet.parse(next.previousGtids());
    if (previous.flavor().equals("mariadb")) {
      Map<String, Long> expected = new TreeMap<>(prevStart.lastSequences());
      added.lastSequences().forEach((source, seq) -> expected.merge(source, seq, Math::max));
      Map<String, Long> actual = nextStart.lastSequences();
      if (!expected.equals(actual)) {
        String want = String.join(",", expected.entrySet().stream().map(e -> e.getKey() + "-" + e.getValue()).toList());
        return Optional.of("the next file's GTID_LIST is [" + next.previousGtids() + "], but the previous file ends at ["
            + want + "]: binlogs are missing or out of order between them");
      }
      return Optional.empty();
    }
    GtidSet expected = prevStart.union(added);
    if (!expected.equals(nextStart)) {
      GtidSet missing = expected.subtract(nextStart);
      GtidSet extra = nextStart.subtract(expected);
      return Optional.of("the next file starts from GTID set '" + nextStart + "', but the previous file ends at '"
          + expected + "'" + (extra.isEmpty() ? "" : "; transactions in between are not in the previous file: " + extra)
          + (missing.isEmpty() ? "" : "; the next file does not account for: " + missing));
    }
    return Optional.empty();
  }
}
