package io.binlogarchive.replication.internal;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Cipher;

/**
 * MySQL's {@code caching_sha2_password}: the client's answers, and the server's checks of them.
 *
 * <p>Fast path: the client answers the 20-byte nonce with SHA256(password) XOR
 * SHA256(SHA256(SHA256(password)) || nonce); a server that has the account in its cache checks it
 * and says "fast auth success" (auth-more-data {@code 0x03}). Otherwise it asks for full
 * authentication ({@code 0x04}): over TLS the client sends the password in clear, NUL-terminated;
 * without TLS it asks for the server's RSA public key ({@code 0x02}) and sends the NUL-terminated
 * password XOR the nonce (repeated), encrypted with RSA/OAEP (SHA-1, MGF1).
 */
public final class CachingSha2Password {
  /** Auth-more-data status: the server accepted the fast-path answer; an OK follows. */
  public static final int FAST_AUTH_SUCCESS = 3;
  /** Auth-more-data status: the server needs the full password. */
  public static final int PERFORM_FULL_AUTHENTICATION = 4;
  /** What the client sends to ask for the server's RSA public key. */
  public static final int REQUEST_PUBLIC_KEY = 2;

  private CachingSha2Password() {}

  /**
   * The fast-path answer.
   *
   * @param password the password's bytes (UTF-8)
   * @param nonce the server's 20-byte nonce
   * @return 32 bytes, or empty for an empty password
   */
  public static byte[] scramble(byte[] password, byte[] nonce) {
    if (password.length == 0) {
      return new byte[0];
    }
    MessageDigest md = sha256();
    byte[] stage1 = md.digest(password);
    byte[] stage2 = md.digest(stage1);
    md.update(stage2);
    md.update(nonce, 0, Math.min(20, nonce.length));
    byte[] mix = md.digest();
    for (int i = 0; i < mix.length; i++) {
      mix[i] ^= stage1[i];
    }
    Arrays.fill(stage1, (byte) 0);
    return mix;
  }

  /**
   * What a server keeps of a password: SHA256(SHA256(password)), enough to check a fast-path answer
   * and a full-authentication password without keeping the password.
   *
   * @param password the password's bytes (UTF-8)
   * @return 32 bytes
   */
  public static byte[] doubleSha256(byte[] password) {
    MessageDigest md = sha256();
    byte[] stage1 = md.digest(password);
    byte[] stage2 = md.digest(stage1);
    Arrays.fill(stage1, (byte) 0);
    return stage2;
  }

  /**
   * The server's check of a fast-path answer, in constant time: the answer XOR
   * SHA256(stored || nonce) must be a value whose SHA-256 is the stored one.
   *
   * @param answer what the client sent (32 bytes)
   * @param nonce the 20-byte nonce the server sent
   * @param doubleSha256 {@link #doubleSha256(byte[]) SHA256(SHA256(password))}
   * @return whether the client knows the password
   */
  public static boolean check(byte[] answer, byte[] nonce, byte[] doubleSha256) {
    if (answer.length != 32) {
      return false;
    }
    MessageDigest md = sha256();
    md.update(doubleSha256);
    md.update(nonce, 0, 20);
    byte[] mix = md.digest();
    for (int i = 0; i < 32; i++) {
      mix[i] ^= answer[i]; // now SHA256(password), if the answer is right
    }
    boolean ok = MessageDigest.isEqual(md.digest(mix), doubleSha256);
    Arrays.fill(mix, (byte) 0);
    return ok;
  }

  /**
   * The full-authentication answer without TLS: (password || 0x00) XOR the nonce (repeated), RSA/OAEP
   * encrypted with the server's public key.
   *
   * @param password the password's bytes (UTF-8)
   * @param nonce the server's 20-byte nonce
   * @param publicKeyPem the server's key, PEM ("-----BEGIN PUBLIC KEY-----", X.509 SubjectPublicKeyInfo)
   * @return the encrypted answer
   * @throws GeneralSecurityException if the key cannot be read or the password is too long for it
   */
  public static byte[] encryptPassword(byte[] password, byte[] nonce, String publicKeyPem)
      throws GeneralSecurityException {
    byte[] plain = new byte[password.length + 1];
    System.arraycopy(password, 0, plain, 0, password.length);
    int n = Math.min(20, nonce.length);
    for (int i = 0; i < plain.length; i++) {
      plain[i] ^= nonce[i % n];
    }
    try {
      Cipher rsa = Cipher.getInstance("RSA/ECB/OAEPWithSHA-1AndMGF1Padding");
      rsa.init(Cipher.ENCRYPT_MODE, publicKey(publicKeyPem));
      return rsa.doFinal(plain);
    } finally {
      Arrays.fill(plain, (byte) 0);
    }
  }

  /**
   * Reads an RSA public key in PEM form.
   *
   * @param pem the text the server sent
   * @return the key
   * @throws GeneralSecurityException if it is not an X.509 RSA public key in PEM form
   */
  public static PublicKey publicKey(String pem) throws GeneralSecurityException {
    int begin = pem.indexOf("-----BEGIN PUBLIC KEY-----");
    int end = pem.indexOf("-----END PUBLIC KEY-----");
    if (begin < 0 || end < begin) {
      throw new GeneralSecurityException("the server's public key is not a PEM 'BEGIN PUBLIC KEY' block");
    }
    String base64 = pem.substring(begin + "-----BEGIN PUBLIC KEY-----".length(), end).replaceAll("\\s", "");
    byte[] der;
    try {
      der = Base64.getDecoder().decode(base64.getBytes(StandardCharsets.US_ASCII));
    } catch (IllegalArgumentException e) {
      throw new GeneralSecurityException("the server's public key is not valid base64", e);
    }
    return KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(der));
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
