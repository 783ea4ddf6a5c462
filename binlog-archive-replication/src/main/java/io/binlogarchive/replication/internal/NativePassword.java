package io.binlogarchive.replication.internal;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * {@code mysql_native_password}: the client sends SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))).
 * The server stores SHA1(SHA1(password)) and checks the answer without ever seeing the password.
 */
public final class NativePassword {
  private NativePassword() {}

  /** The 20-byte answer to a 20-byte {@code scramble}; empty for an empty password. */
  public static byte[] scramble(byte[] password, byte[] scramble) {
    if (password.length == 0) {
      return new byte[0];
    }
    byte[] stage1 = sha1(password);
    byte[] stage2 = sha1(stage1);
    MessageDigest md = sha1();
    md.update(scramble, 0, 20);
    md.update(stage2);
    byte[] mix = md.digest();
    for (int i = 0; i < mix.length; i++) {
      mix[i] ^= stage1[i];
    }
    return mix;
  }

  /** The answer for a password given as a string (UTF-8). */
  public static byte[] scramble(String password, byte[] scramble) {
    return scramble(password.getBytes(StandardCharsets.UTF_8), scramble);
  }

  /**
   * Checks a client's answer against the stored SHA1(SHA1(password)) in constant time.
   *
   * @param answer what the client sent (20 bytes, or empty for an empty password)
   * @param scramble the 20-byte scramble the server sent
   * @param doubleSha1 SHA1(SHA1(password)), or null when the account has no password
   */
  public static boolean check(byte[] answer, byte[] scramble, byte[] doubleSha1) {
    if (doubleSha1 == null) {
      return answer.length == 0;
    }
    if (answer.length != 20) {
      return false;
    }
    MessageDigest md = sha1();
    md.update(scramble, 0, 20);
    md.update(doubleSha1);
    byte[] mix = md.digest();
    for (int i = 0; i < 20; i++) {
      mix[i] ^= answer[i]; // now SHA1(password), if the answer is right
    }
    return MessageDigest.isEqual(sha1(mix), doubleSha1);
  }

  /** SHA1 of {@code b}. */
  public static byte[] sha1(byte[] b) {
    return sha1().digest(b);
  }

  private static MessageDigest sha1() {
    try {
      return MessageDigest.getInstance("SHA-1");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-1", e);
    }
  }
}
