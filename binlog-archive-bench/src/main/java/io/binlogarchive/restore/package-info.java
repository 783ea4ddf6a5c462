/**
 * Benchmark runner of restore fetch throughput beside {@code zstd -d} on the same artifact, in the
 * bench module (not published, no API promise). The class says how to run it.
 */
package io.binlogarchive.restore;
