/**
 * Optional Micrometer meters for an archiver, through its listener: archived files and bytes, upload latency,
 * retries, failures, files in flight, lag.
 *
 * <p>Promise: {@code MicrometerArchiveListener} is the module's whole API.
 */
package io.binlogarchive.micrometer;
