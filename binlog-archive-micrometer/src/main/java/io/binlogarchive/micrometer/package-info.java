/**
 * Optional Micrometer meters for an archiver, through its listener: archived files and bytes, upload latency,
 * retries, failures, files in flight, lag.
 */
package io.binlogarchive.micrometer;
