/**
 * Envelope encryption: the {@link io.binlogarchive.crypto.KeyProvider} SPI, the static key provider, and
 * the segmented AES-256-GCM streaming transform (byte-compatible with Tink's {@code AesGcmHkdfStreaming};
 * format in {@code docs/encryption-format.md}). Key material never reaches logs, exceptions or sidecars.
 */
package io.binlogarchive.crypto;
