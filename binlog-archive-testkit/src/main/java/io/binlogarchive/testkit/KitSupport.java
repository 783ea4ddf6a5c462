package io.binlogarchive.testkit;

import io.binlogarchive.codec.Transform;
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

/** What the kits share: payloads, hashes and the binlogs shipped with the kits. */
final class KitSupport {
  /** How many closed MariaDB 10.11 binlogs the jar holds, see {@code binlogs/README.md} beside them. */
  static final int BINLOGS = 10;
  /** The ones held as they are; the later ones are zstd-compressed ({@code <name>.zst}). */
  private static final int UNCOMPRESSED = 2;

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
   * Copies the kit's first two binlogs and an index naming them into {@code target}.
   *
   * @return {@code target}
   */
  static Path copyBinlogs(Path target) throws IOException {
    return copyChain(target, UNCOMPRESSED);
  }

  /**
   * Copies the kit's first {@code count} binlogs and an index naming them into {@code target}.
   *
   * @param count 1 to {@link #BINLOGS}
   * @return {@code target}
   */
  static Path copyChain(Path target, int count) throws IOException {
    if (count < 1 || count > BINLOGS) {
      throw new IllegalArgumentException("the testkit jar holds " + BINLOGS + " binlogs, not " + count);
    }
    Files.createDirectories(target);
    StringBuilder index = new StringBuilder();
    for (int i = 1; i <= count; i++) {
      String name = binlogName(i);
      copyBinlog(name, target);
      index.append("./").append(name).append('\n');
    }
    Files.writeString(target.resolve("mysql-bin.index"), index);
    return target;
  }

  /** @return the name of the kit's {@code n}-th binlog, e.g. {@code mysql-bin.000003} */
  static String binlogName(int n) {
    return String.format("mysql-bin.%06d", n);
  }

  /**
   * Copies one of the kit's binlogs into {@code dir}, decompressed; the index is not touched.
   *
   * @param name e.g. {@code mysql-bin.000003}
   * @param dir the directory
   */
  static void copyBinlog(String name, Path dir) throws IOException {
    boolean compressed = Integer.parseInt(name.substring(name.lastIndexOf('.') + 1)) > UNCOMPRESSED;
    String resource = "binlogs/" + name + (compressed ? ".zst" : "");
    InputStream raw = KitSupport.class.getResourceAsStream(resource);
    if (raw == null) {
      throw new UncheckedIOException(new IOException("binlog " + resource + " is missing from the testkit jar"));
    }
    try (InputStream in = compressed ? Transform.zstd(3).unwrap(raw) : raw) {
      Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
