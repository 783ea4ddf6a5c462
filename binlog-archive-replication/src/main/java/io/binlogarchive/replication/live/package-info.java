/**
 * The live source: a replication client that receives a server's binlog as it is written and a spool
 * that rebuilds the server's files byte for byte.
 *
 * <p>Entry points: {@link io.binlogarchive.replication.live.SourceConfig} (where to connect, TLS,
 * credentials), {@link io.binlogarchive.replication.live.LiveStream} (runs the stream into a spool
 * directory, reconnecting and resuming without gap or duplicate) and {@link
 * io.binlogarchive.replication.live.SpoolListener} (durable transaction boundaries, closed files,
 * gaps), on which segment uploads are built.
 */
package io.binlogarchive.replication.live;
