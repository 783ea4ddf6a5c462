/**
 * Binlog helpers shared by the write and read sides: file names, GTID state, GTID stop positions,
 * MySQL tagged GTID decoding. No compatibility promise.
 */
package io.binlogarchive.internal.binlog;
