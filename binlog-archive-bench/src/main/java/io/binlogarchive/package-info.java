/**
 * Benchmark runners of the whole archiver, in the bench module (not published, no API promise):
 * {@code PipelineScannerOverhead} (the event scan's cost inside the real pipeline) and
 * {@code RotationStormBenchmark} (per-file overhead on many tiny binlogs from a real MariaDB server).
 * Each class says how to run it.
 */
package io.binlogarchive;
