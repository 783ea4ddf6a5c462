/**
 * The {@link io.binlogarchive.codec.Transform} SPI, a named stream decorator recorded in the sidecar by
 * its id, and the built-in codecs (zstd, gzip, none).
 */
package io.binlogarchive.codec;
