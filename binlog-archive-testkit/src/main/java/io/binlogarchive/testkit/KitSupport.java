package io.binlogarchive.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;

/** What the kits share: payloads, hashes and the binlogs shipped with the kit. */
final class KitSupport {
  /** Two closed MariaDB 10.11 binlogs, see {@code binlogs/README.md} beside them. */
  private static final String[] BINLOGS = {"mysql-bin.000001", "mysql-bin.000002"};

  private KitSupport() {}

  static byte[] payload(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  static MessageDigest sha256Digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
  }

  static String sha256(byte[] b) {
    return HexFormat.of().formatHex(sha256Digest().digest(b));
  }

  /**
   * Copies the kit's binlogs and an index naming them into {@code target}.
   *
   * @return {@code target}
   */
  static Path copyBinlogs(Path target) throws IOException {
    Files.createDirectories(target);
    StringBuilder index = new StringBuilder();
    for (String name : BINLOGS) {
      try (InputStream in = KitSupport.class.getResourceAsStream("binlogs/" + name)) {
        if (in == null) {
          throw new UncheckedIOException(new IOException("binlog " + name + " is missing from the testkit jar"));
        }
        Files.copy(in, target.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      }
      index.append("./").append(name).append('\n');
    }
    Files.writeString(target.resolve("mysql-bin.index"), index);
    return target;
  }
}
