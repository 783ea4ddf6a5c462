package io.binlogarchive.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/** Finds the shared binlog fixtures ({@code ../shared/fixtures} beside the project root). */
public final class Fixtures {
  private Fixtures() {}

  /** @return the {@code shared/fixtures} directory; fails (never skips) if it cannot be found */
  public static Path dir() {
    Path p = Path.of("").toAbsolutePath();
    for (int i = 0; i < 6 && p != null; i++, p = p.getParent()) {
      for (Path c : List.of(p.resolve("shared/fixtures"), p.resolve("../shared/fixtures"))) {
        if (Files.isDirectory(c.resolve("mariadb-10.11-chain"))) {
          return c.normalize();
        }
      }
    }
    throw new IllegalStateException("shared/fixtures not found above " + Path.of("").toAbsolutePath());
  }

  /** @return the 13-file MariaDB 10.11 chain directory */
  public static Path chain() {
    return dir().resolve("mariadb-10.11-chain");
  }

  /**
   * Copies the chain (binlogs and index, rewritten with relative entries) into {@code target}.
   *
   * @param count how many files from the start of the chain (1..13)
   */
  public static Path copyChain(Path target, int count) throws IOException {
    Files.createDirectories(target);
    StringBuilder index = new StringBuilder();
    for (int i = 1; i <= count; i++) {
      String name = String.format("mysql-bin.%06d", i);
      Files.copy(chain().resolve(name), target.resolve(name), StandardCopyOption.REPLACE_EXISTING);
      index.append("./").append(name).append('\n');
    }
    Files.writeString(target.resolve("mysql-bin.index"), index);
    return target;
  }

  /** @return the files in {@code mysql/} */
  public static List<Path> mysqlFiles() throws IOException {
    try (Stream<Path> s = Files.list(dir().resolve("mysql"))) {
      return s.filter(Files::isRegularFile).sorted().toList();
    }
  }
}
