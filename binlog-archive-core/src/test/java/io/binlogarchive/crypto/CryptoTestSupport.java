package io.binlogarchive.crypto;

import io.binlogarchive.codec.Transform;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.SplittableRandom;

/** Helpers shared by the encryption tests. */
final class CryptoTestSupport {
  private CryptoTestSupport() {}

  static byte[] key(int seed) {
    byte[] k = new byte[32];
    new SplittableRandom(seed).nextBytes(k);
    return k;
  }

  static StaticKeyProvider provider(String keyId, byte[] key) {
    return StaticKeyProvider.builder().key(keyId, key).build();
  }

  static byte[] data(int length, long seed) {
    byte[] b = new byte[length];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  static byte[] encrypt(Transform t, byte[] plaintext) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (OutputStream w = t.wrap(out)) {
        w.write(plaintext);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] decrypt(Transform t, byte[] artifact) throws IOException {
    try (InputStream r = t.unwrap(new ByteArrayInputStream(artifact))) {
      return r.readAllBytes();
    }
  }

  /** Length of the outer header: everything before Tink's 40-byte stream header. */
  static int outerHeaderLength(byte[] artifact) {
    int pos = 11 + (artifact[10] & 0xff);
    int idLen = ((artifact[pos] & 0xff) << 8) | (artifact[pos + 1] & 0xff);
    pos += 2 + idLen;
    int wrappedLen = ((artifact[pos] & 0xff) << 8) | (artifact[pos + 1] & 0xff);
    return pos + 2 + wrappedLen + 4;
  }

  static String sha256(byte[] b) {
    MessageDigest d = sha256();
    return HexFormat.of().formatHex(d.digest(b));
  }

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  /** A deterministic stream of {@code length} pseudo-random bytes. */
  static final class GeneratedInputStream extends InputStream {
    private final SplittableRandom random;
    private long remaining;
    private final byte[] chunk = new byte[64 * 1024];
    private int pos = chunk.length;

    GeneratedInputStream(long length, long seed) {
      this.remaining = length;
      this.random = new SplittableRandom(seed);
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (remaining == 0) {
        return -1;
      }
      if (pos == chunk.length) {
        random.nextBytes(chunk);
        pos = 0;
      }
      int n = (int) Math.min(Math.min(len, chunk.length - pos), remaining);
      System.arraycopy(chunk, pos, b, off, n);
      pos += n;
      remaining -= n;
      return n;
    }
  }

  /** Hands out the given byte arrays in order, one per {@code nextBytes} call of the same size. */
  static final class ScriptedRandom extends SecureRandom {
    private static final long serialVersionUID = 1L;
    private final transient Deque<byte[]> script = new ArrayDeque<>();

    ScriptedRandom(byte[]... values) {
      for (byte[] v : values) {
        script.add(v);
      }
    }

    @Override
    public void nextBytes(byte[] bytes) {
      byte[] next = script.poll();
      if (next == null || next.length != bytes.length) {
        throw new AssertionError("unexpected random request of " + bytes.length + " bytes");
      }
      System.arraycopy(next, 0, bytes, 0, bytes.length);
    }
  }

  static byte[] sequence(int start, int length) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (start + i);
    }
    return b;
  }

  static ByteArrayInputStream in(byte[] b) {
    return new ByteArrayInputStream(b);
  }
}
