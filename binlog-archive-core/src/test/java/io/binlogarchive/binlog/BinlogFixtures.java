package io.binlogarchive.binlog;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Finds the shared binlog fixtures ({@code shared/fixtures} beside the project root). */
final class BinlogFixtures {
  static {
    // warn-mode scans of corrupted files log a checksum warning per file; keep test output readable
    if (System.getProperty("org.slf4j.simpleLogger.log.io.binlogarchive.binlog.BinlogScanner") == null) {
      System.setProperty("org.slf4j.simpleLogger.log.io.binlogarchive.binlog.BinlogScanner", "error");
    }
  }

  private BinlogFixtures() {}

  /**
   * The fixtures directory, found by walking up from the working directory until a directory
   * holding {@code shared/fixtures} appears. Fails the test (does not skip it) when there is none.
   */
  static Path dir() {
    Path d = Path.of("").toAbsolutePath();
    while (d != null) {
      Path candidate = d.resolve("shared").resolve("fixtures");
      if (Files.isDirectory(candidate)) {
        return candidate;
      }
      d = d.getParent();
    }
    return fail("binlog fixtures not found: no shared/fixtures above " + Path.of("").toAbsolutePath());
  }

  /** The thirteen consecutive MariaDB 10.11 binlogs, in order. */
  static List<Path> chain() {
    return list(dir().resolve("mariadb-10.11-chain"), "mysql-bin.0");
  }

  /** The single-file MySQL and MariaDB fixtures. */
  static List<Path> singles() {
    return list(dir().resolve("mysql"), "");
  }

  private static List<Path> list(Path d, String prefix) {
    try (Stream<Path> s = Files.list(d)) {
      List<Path> files = s.filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().toList();
      if (files.isEmpty()) {
        fail("no fixtures in " + d);
      }
      return files;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] read(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Offsets of the events of a well-formed binlog, walking the size fields. */
  static java.util.List<Integer> eventOffsets(byte[] data) {
    java.util.List<Integer> out = new java.util.ArrayList<>();
    long p = 4;
    while (p + 19 <= data.length) {
      out.add((int) p);
      int q = (int) p;
      long size = (data[q + 9] & 0xffL) | (data[q + 10] & 0xffL) << 8 | (data[q + 11] & 0xffL) << 16 | (data[q + 12] & 0xffL) << 24;
      if (size < 19) {
        break;
      }
      p += size;
    }
    return out;
  }

  /** Scans bytes fed in chunks of {@code chunk} bytes. */
  static BinlogInfo scan(String name, byte[] data, int chunk, boolean failOnChecksumMismatch) {
    BinlogScanner s = new BinlogScanner(name, failOnChecksumMismatch);
    for (int off = 0; off < data.length; off += chunk) {
      s.update(data, off, Math.min(chunk, data.length - off));
    }
    return s.finish();
  }
}
