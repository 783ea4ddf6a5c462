/**
 * Serves an archive to a restored server as its replication source: {@link
 * io.binlogarchive.replication.serve.BinlogServer} speaks enough of the MySQL/MariaDB server
 * protocol for a replica's I/O thread (handshake, TLS, {@code mysql_native_password} and {@code
 * caching_sha2_password}, the replica's setup queries, {@code COM_REGISTER_SLAVE}, {@code
 * COM_BINLOG_DUMP} and {@code COM_BINLOG_DUMP_GTID}, heartbeats) and streams the restore plan's
 * files, each proven against its sidecar's SHA-256 before any of its events is sent (a file the
 * live stream archived only as segments, each segment against its own), up to the plan's target.
 */
package io.binlogarchive.replication.serve;
