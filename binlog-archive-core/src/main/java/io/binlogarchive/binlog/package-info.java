/**
 * Where binlogs come from and what is in them: the {@link io.binlogarchive.binlog.BinlogSource} SPI and
 * its index-file and {@code SHOW BINARY LOGS} implementations, the streaming
 * {@link io.binlogarchive.binlog.BinlogScanner} (binlog v4, MySQL 5.7-9.x and MariaDB) and
 * {@link io.binlogarchive.binlog.GtidSet} of both flavours.
 *
 * <p>Promise: the public types are API; the sources' implementations and the scanner's three parts
 * (event framing, decoding, transaction tracking) are package-private.
 */
package io.binlogarchive.binlog;
