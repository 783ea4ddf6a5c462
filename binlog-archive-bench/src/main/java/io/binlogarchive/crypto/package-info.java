/**
 * Benchmark runner of the AES-GCM transform's throughput, cold and warm, beside {@code openssl}, in
 * the bench module (not published, no API promise). The class says how to run it.
 */
package io.binlogarchive.crypto;
