/**
 * The {@link io.binlogarchive.codec.Transform} SPI, a named stream decorator recorded in the sidecar by
 * its id; the built-in codecs (zstd, gzip, none); the {@link io.binlogarchive.codec.CodecRegistry} in
 * which the read side looks codecs up by that id; and the capability interfaces a transform may add
 * ({@link io.binlogarchive.codec.StreamFacts}, {@link io.binlogarchive.codec.CodecEnvelope}).
 *
 * <p>Promise: the public types are API, and a transform written outside this project works wherever
 * the built-in ones do; the built-in codecs' classes are package-private, made by {@code
 * Transform}'s factories.
 */
package io.binlogarchive.codec;
