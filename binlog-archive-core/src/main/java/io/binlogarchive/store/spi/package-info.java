/**
 * Helpers for authors of a {@link io.binlogarchive.store.Sink}: a forwarding base class, conditional-call
 * handling, stream error translation, key validation, a collector of settings problems for builders, and
 * the plain-http endpoint rule that the S3 and GCS sinks use. A sink written outside this project runs
 * the kits of {@code binlog-archive-testkit} ({@code SinkCompatibilityKit}, {@code StoreOutageKit}).
 *
 * <p>Promise: API for sink authors, as public as {@code Sink} itself; the library's own S3 and GCS
 * sinks use nothing else of core's that an outside sink could not.
 */
package io.binlogarchive.store.spi;
