package io.binlogarchive.crypto;

import io.binlogarchive.IntegrityException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * The outer header of an encrypted artifact (see {@code docs/encryption-format.md}).
 *
 * <pre>
 * magic "BLAE" | version u8 | suite u8 | segment_size u32 | codec_len u8 | codec   (associated data)
 * key_id_len u16 | key_id | wrapped_len u16 | wrapped_key | crc32c u32               (envelope)
 * </pre>
 *
 * The associated-data part is the HKDF info of the stream, so every segment depends on it. The
 * envelope is not part of it, so {@code rewrap} can replace it; it is protected by the key
 * provider's own wrapping AEAD. The CRC-32C only tells corruption apart from an unknown key id.
 */
final class AesGcmHeader {
  static final byte[] MAGIC = {'B', 'L', 'A', 'E'};
  static final int VERSION = 1;
  static final int SUITE_AES256_GCM_HKDF_SHA256 = 1;
  static final String SUITE_NAME = "AES256_GCM_HKDF_SHA256";
  static final int MIN_SEGMENT_SIZE = 64;
  static final int MAX_SEGMENT_SIZE = 16 << 20;
  static final int MAX_CODEC_BYTES = 64;
  static final int MAX_KEY_ID_BYTES = 1024;
  static final int MAX_WRAPPED_BYTES = 4096;

  final int segmentSize;
  final String codec;
  final String keyId;
  final byte[] wrappedKey;

  AesGcmHeader(int segmentSize, String codec, String keyId, byte[] wrappedKey) {
    this.segmentSize = segmentSize;
    this.codec = codec;
    this.keyId = keyId;
    this.wrappedKey = wrappedKey.clone();
    checkSegmentSize(segmentSize);
    checkCodec(codec);
    int idLen = keyId.getBytes(StandardCharsets.UTF_8).length;
    if (idLen == 0 || idLen > MAX_KEY_ID_BYTES) {
      throw new IllegalArgumentException("key id must be 1 to " + MAX_KEY_ID_BYTES + " bytes");
    }
    if (wrappedKey.length == 0 || wrappedKey.length > MAX_WRAPPED_BYTES) {
      throw new IllegalArgumentException(
          "wrapped data key must be 1 to " + MAX_WRAPPED_BYTES + " bytes, got "
              + wrappedKey.length);
    }
  }

  static void checkSegmentSize(int segmentSize) {
    if (segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) {
      throw new IllegalArgumentException(
          "segment size must be " + MIN_SEGMENT_SIZE + " to " + MAX_SEGMENT_SIZE + " bytes, got "
              + segmentSize);
    }
  }

  static void checkCodec(String codec) {
    if (codec.length() > MAX_CODEC_BYTES || !codec.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
      throw new IllegalArgumentException(
          "inner codec id must be at most " + MAX_CODEC_BYTES + " printable ASCII characters");
    }
  }

  /** The same stable fields with another key envelope. */
  AesGcmHeader withEnvelope(String newKeyId, byte[] newWrappedKey) {
    return new AesGcmHeader(segmentSize, codec, newKeyId, newWrappedKey);
  }

  /** @return the authenticated part: magic through codec; the HKDF info of the stream */
  byte[] associatedData() {
    byte[] c = codec.getBytes(StandardCharsets.US_ASCII);
    byte[] ad = new byte[11 + c.length];
    System.arraycopy(MAGIC, 0, ad, 0, 4);
    ad[4] = (byte) VERSION;
    ad[5] = (byte) SUITE_AES256_GCM_HKDF_SHA256;
    putInt(ad, 6, segmentSize);
    ad[10] = (byte) c.length;
    System.arraycopy(c, 0, ad, 11, c.length);
    return ad;
  }

  /** @return the whole header as stored */
  byte[] encode() {
    ByteArrayOutputStream b = new ByteArrayOutputStream(128 + wrappedKey.length);
    b.writeBytes(associatedData());
    byte[] id = keyId.getBytes(StandardCharsets.UTF_8);
    b.write(id.length >>> 8);
    b.write(id.length);
    b.writeBytes(id);
    b.write(wrappedKey.length >>> 8);
    b.write(wrappedKey.length);
    b.writeBytes(wrappedKey);
    CRC32C crc = new CRC32C();
    byte[] body = b.toByteArray();
    crc.update(body);
    byte[] out = Arrays.copyOf(body, body.length + 4);
    putInt(out, body.length, (int) crc.getValue());
    return out;
  }

  /**
   * Reads and checks a header.
   *
   * @throws IntegrityException if the stream is not an encrypted artifact of a known version, or
   *     the header is truncated or corrupt
   * @throws IOException if reading fails
   */
  static AesGcmHeader read(InputStream in) throws IOException {
    CRC32C crc = new CRC32C();
    byte[] fixed = readExactly(in, 11, crc, "fixed header fields");
    if (!Arrays.equals(fixed, 0, 4, MAGIC, 0, 4)) {
      throw new IntegrityException(
          "not an encrypted binlog-archive artifact: the first bytes are not the magic \"BLAE\"");
    }
    int version = fixed[4] & 0xff;
    if (version != VERSION) {
      throw new IntegrityException(
          "unsupported encrypted artifact format version " + version + " (this release reads "
              + VERSION + "); the artifact is corrupt or was written by a newer release");
    }
    int suite = fixed[5] & 0xff;
    if (suite != SUITE_AES256_GCM_HKDF_SHA256) {
      throw new IntegrityException(
          "unknown cipher suite " + suite + " in encrypted artifact header; corrupt header?");
    }
    int segmentSize = getInt(fixed, 6);
    if (segmentSize < MIN_SEGMENT_SIZE || segmentSize > MAX_SEGMENT_SIZE) {
      throw new IntegrityException(
          "segment size " + Integer.toUnsignedString(segmentSize)
              + " in encrypted artifact header is out of range; corrupt header?");
    }
    int codecLen = fixed[10] & 0xff;
    if (codecLen > MAX_CODEC_BYTES) {
      throw new IntegrityException("codec length " + codecLen + " out of range; corrupt header?");
    }
    byte[] codec = readExactly(in, codecLen, crc, "codec");
    int idLen = readU16(in, crc);
    if (idLen == 0 || idLen > MAX_KEY_ID_BYTES) {
      throw new IntegrityException("key id length " + idLen + " out of range; corrupt header?");
    }
    byte[] id = readExactly(in, idLen, crc, "key id");
    int wrappedLen = readU16(in, crc);
    if (wrappedLen == 0 || wrappedLen > MAX_WRAPPED_BYTES) {
      throw new IntegrityException(
          "wrapped key length " + wrappedLen + " out of range; corrupt header?");
    }
    byte[] wrapped = readExactly(in, wrappedLen, crc, "wrapped key");
    int expected = (int) crc.getValue();
    int stored = getInt(readExactly(in, 4, null, "header checksum"), 0);
    if (stored != expected) {
      throw new IntegrityException(
          "encrypted artifact header fails its CRC-32C check: the header is corrupt");
    }
    String codecId = new String(codec, StandardCharsets.US_ASCII);
    String keyId = new String(id, StandardCharsets.UTF_8);
    try {
      return new AesGcmHeader(segmentSize, codecId, keyId, wrapped);
    } catch (IllegalArgumentException e) {
      throw new IntegrityException("invalid encrypted artifact header: " + e.getMessage());
    }
  }

  private static int readU16(InputStream in, CRC32C crc) throws IOException {
    byte[] b = readExactly(in, 2, crc, "length field");
    return ((b[0] & 0xff) << 8) | (b[1] & 0xff);
  }

  static byte[] readExactly(InputStream in, int n, CRC32C crc, String what) throws IOException {
    byte[] b = in.readNBytes(n);
    if (b.length != n) {
      throw new IntegrityException(
          "encrypted artifact is truncated: it ends inside the header (" + what + ")");
    }
    if (crc != null) {
      crc.update(b);
    }
    return b;
  }

  static void putInt(byte[] b, int off, int v) {
    b[off] = (byte) (v >>> 24);
    b[off + 1] = (byte) (v >>> 16);
    b[off + 2] = (byte) (v >>> 8);
    b[off + 3] = (byte) v;
  }

  static int getInt(byte[] b, int off) {
    return ((b[off] & 0xff) << 24)
        | ((b[off + 1] & 0xff) << 16)
        | ((b[off + 2] & 0xff) << 8)
        | (b[off + 3] & 0xff);
  }
}
