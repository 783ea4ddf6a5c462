/**
 * Compatibility kits: abstract JUnit 5 classes that state the contract of an SPI, for an
 * implementation's test to extend with one factory method. {@link
 * io.binlogarchive.testkit.SinkCompatibilityKit} runs against a {@link io.binlogarchive.store.Sink}
 * on its real server; {@link io.binlogarchive.testkit.TransformCompatibilityKit} against a {@link
 * io.binlogarchive.codec.Transform}; {@link io.binlogarchive.testkit.StoreOutageKit} stops a
 * sink's server in the middle of an archiver's upload and brings it back. The library's own sinks
 * and transforms run the same kits.
 * Groups and tests may be added in any release; an implementation that passes them restores.
 */
package io.binlogarchive.testkit;
