package io.binlogarchive.s3;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/** SHA-256 helpers and the encodings S3 uses for its checksums. */
final class Sha256 {
  private Sha256() {}

  static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  static byte[] of(byte[] b, int off, int len) {
    MessageDigest d = digest();
    d.update(b, off, len);
    return d.digest();
  }

  static String base64(byte[] digest) {
    return Base64.getEncoder().encodeToString(digest);
  }

  static String hex(byte[] digest) {
    return HexFormat.of().formatHex(digest);
  }

  /**
   * @return S3's composite checksum of a multipart object: the SHA-256 of the concatenated binary
   *     part digests, base64, followed by {@code -<number of parts>}
   */
  static String composite(List<byte[]> partDigests) {
    MessageDigest d = digest();
    for (byte[] p : partDigests) {
      d.update(p);
    }
    return base64(d.digest()) + "-" + partDigests.size();
  }

  /**
   * Compares a checksum the store reported with ours. S3 reports composite checksums with a
   * {@code -N} part count suffix in some responses and without it in others; the part count is
   * compared only when both carry it.
   */
  static boolean sameChecksum(String reported, String ours) {
    String r = reported.trim();
    int rd = r.lastIndexOf('-');
    int od = ours.lastIndexOf('-');
    String rBase = rd < 0 ? r : r.substring(0, rd);
    String oBase = od < 0 ? ours : ours.substring(0, od);
    if (!rBase.equals(oBase)) {
      return false;
    }
    return rd < 0 || od < 0 || r.substring(rd).equals(ours.substring(od));
  }

  static boolean isComposite(String checksum) {
    return checksum.indexOf('-') > 0;
  }

  /**
   * @return the ETag S3 gives a multipart object, {@code md5(concat(binary part ETags))-N}, or
   *     {@code null} if a part ETag is not a 32-digit hex value
   */
  static String multipartEtag(List<String> partEtags) {
    MessageDigest md5;
    try {
      md5 = MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      return null;
    }
    for (String etag : partEtags) {
      String t = unquote(etag);
      if (t.length() != 32 || !t.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
        return null;
      }
      md5.update(HexFormat.of().parseHex(t));
    }
    return HexFormat.of().formatHex(md5.digest()) + "-" + partEtags.size();
  }

  static String unquote(String etag) {
    if (etag == null) {
      return "";
    }
    String t = etag.trim();
    if (t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"")) {
      t = t.substring(1, t.length() - 1);
    }
    return t;
  }
}
