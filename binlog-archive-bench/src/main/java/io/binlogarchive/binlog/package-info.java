/**
 * JMH benchmark of the archive path's reading-thread stages (SHA-256, the binlog scanner, zstd),
 * in the bench module (not published, no API promise). The package mirrors the core package it
 * measures; the class says how to run it.
 */
package io.binlogarchive.binlog;
