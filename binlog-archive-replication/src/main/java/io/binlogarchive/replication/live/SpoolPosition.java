package io.binlogarchive.replication.live;

import java.time.Instant;

/**
 * A durable transaction boundary in the spool: everything in {@code file} before {@code endOffset}
 * is on disk under the fsync policy and ends on a transaction boundary.
 *
 * @param file the binlog file name, as on the server (e.g. {@code mysql-bin.000007})
 * @param endOffset the offset just after the last complete transaction; the file's length at that point
 * @param gtid the GTID of the last transaction ({@code uuid:n}, {@code uuid:tag:n} or MariaDB's
 *     {@code domain-server-seq}), or null when the server gives none (anonymous GTIDs)
 * @param eventTime the timestamp of the last transaction's final event (second precision), or null
 */
public record SpoolPosition(String file, long endOffset, String gtid, Instant eventTime) {}
