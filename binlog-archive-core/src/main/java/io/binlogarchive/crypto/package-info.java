/**
 * Envelope encryption: the {@link io.binlogarchive.crypto.KeyProvider} SPI, the static key provider, and
 * the segmented AES-256-GCM streaming transform (byte-compatible with Tink's {@code AesGcmHkdfStreaming};
 * format in {@code docs/encryption-format.md}). Key material never reaches logs, exceptions or sidecars.
 *
 * <p>Promise: the public types are API and the artifact format is versioned in its header; the
 * header codec, the segment cipher and the streams are package-private.
 */
package io.binlogarchive.crypto;
