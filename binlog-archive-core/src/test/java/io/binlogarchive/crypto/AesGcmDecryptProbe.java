package io.binlogarchive.crypto;

import io.binlogarchive.codec.Transform;
import java.io.BufferedInputStream;
import java.io.InputStream;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Child-JVM side of {@link AesGcmMemoryTest}: decrypts an artifact from standard input with the
 * key in the file named by the first argument and prints the plaintext's length, SHA-256 and the
 * JVM's maximum heap.
 */
public final class AesGcmDecryptProbe {
  private AesGcmDecryptProbe() {}

  /**
   * @param args key file path, key id
   * @throws Exception any failure, which ends the JVM with a non-zero exit code
   */
  public static void main(String[] args) throws Exception {
    KeyProvider keys = StaticKeyProvider.builder().keyFile(args[1], Path.of(args[0])).build();
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    long total = 0;
    byte[] buf = new byte[64 * 1024];
    try (InputStream in = Transform.aesGcm(keys).unwrap(new BufferedInputStream(System.in, 64 * 1024))) {
      int n;
      while ((n = in.read(buf)) >= 0) {
        sha.update(buf, 0, n);
        total += n;
      }
    }
    System.out.println(total + " " + HexFormat.of().formatHex(sha.digest()) + " " + Runtime.getRuntime().maxMemory());
  }
}
