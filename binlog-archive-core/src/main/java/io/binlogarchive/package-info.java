/**
 * The write side of binlog-archive, what an embedder calls: {@link io.binlogarchive.Archiver} and its
 * builder, the {@link io.binlogarchive.ArchiveListener}, run results, the {@link io.binlogarchive.Sidecar}
 * format record, the {@link io.binlogarchive.Verifier} and {@link io.binlogarchive.RetryPolicy} settings, and the
 * exception taxonomy rooted at {@link io.binlogarchive.ArchiveException}.
 *
 * <p>Subpackages hold one concern each: {@code binlog} (sources, the event scanner, GTID sets),
 * {@code codec} (the {@code Transform} SPI and built-in codecs), {@code crypto} (key providers and the
 * AES-256-GCM stream), {@code store} (sinks, the cursor store, the lease) with {@code store.spi} for sink
 * authors, and {@code restore} (the read side). {@code internal.*} has no compatibility promise.
 *
 * <p>Promise: every public type and member here is API an embedder may call; what the other
 * packages need of these classes and nothing more is reached through {@code internal}, not made
 * public here.
 */
package io.binlogarchive;
