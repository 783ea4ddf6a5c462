/**
 * Binlog helpers shared by the write and read sides: file names, event field readers, GTID state,
 * GTID stop positions, MySQL tagged GTID decoding, and {@code ScannerAccess}, through which the
 * pipeline reaches the scanner's package-private methods for crash-cut and still-open files. No
 * compatibility promise.
 */
package io.binlogarchive.internal.binlog;
