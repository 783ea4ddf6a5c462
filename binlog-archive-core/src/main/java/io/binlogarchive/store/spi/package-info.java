/**
 * Helpers for authors of a {@link io.binlogarchive.store.Sink}: a forwarding base class, conditional-call
 * handling, stream error translation, key validation, a collector of settings problems for builders, and
 * the plain-http endpoint rule that the S3 and GCS sinks use. A sink written outside this project runs
 * the compatibility kit of {@code binlog-archive-core}'s test-jar.
 */
package io.binlogarchive.store.spi;
