package io.binlogarchive;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;
import java.util.List;

/**
 * What one scan of a binary log found, recorded in the sidecar so restores can be planned without
 * downloading anything.
 *
 * @param flavor {@code mysql} or {@code mariadb}
 * @param serverVersion the server version from the FORMAT_DESCRIPTION_EVENT
 * @param binlogVersion the binlog format version (4)
 * @param checksumAlgorithm {@code crc32} or {@code none}
 * @param inUse whether the in-use flag was still set (the file was copied while open)
 * @param closed in-use flag cleared and the last event is ROTATE or STOP
 * @param firstEventTime timestamp of the first event
 * @param lastEventTime timestamp of the last event
 * @param firstCommitTime commit time of the first transaction (may be {@code null})
 * @param lastCommitTime commit time of the last transaction (may be {@code null})
 * @param previousGtids the GTID set the file starts from (MySQL PREVIOUS_GTIDS / MariaDB GTID_LIST)
 * @param gtids the GTID set the file adds ({@code uuid:1-100} or {@code domain-server-seq} forms)
 * @param serverIds server ids seen in event headers
 * @param eventCount number of events
 * @param transactionCount number of transactions (GTID or BEGIN-delimited)
 * @param compressedTransactionCount number of TRANSACTION_PAYLOAD events
 * @param unknownEventCount events of types the scanner does not know (skipped)
 * @param checksumFailures events whose CRC32 did not match (only when configured to warn)
 * @param endPosition offset just past the last event
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
    @JsonProperty("end_position") long endPosition) {}
