package io.binlogarchive.binlog;

import io.binlogarchive.internal.binlog.BinlogNames;
import java.nio.file.Path;
import java.util.Objects;

/**
 * One binary log file on the database host, as a {@link BinlogSource} lists it.
 *
 * @param name the file name, e.g. {@code mysql-bin.000042}
 * @param path where to read it
 * @param sequence the numeric suffix (42); order is by this number, never by string
 */
public record BinlogFile(String name, Path path, long sequence) implements Comparable<BinlogFile> {

  /**
   * Validates the fields.
   *
   * @param name the file name, e.g. {@code mysql-bin.000042}; not null
   * @param path where to read it; not null
   * @param sequence the numeric suffix (42), not negative; order is by this number, never by string
   * @throws IllegalArgumentException if {@code sequence} is negative
   */
  public BinlogFile {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(path, "path");
    if (sequence < 0) {
      throw new IllegalArgumentException("negative sequence for " + name);
    }
  }

  /** @return the part of the name before the numeric suffix, e.g. {@code mysql-bin} */
  public String baseName() {
    return BinlogNames.baseName(name);
  }

  @Override
  public int compareTo(BinlogFile other) {
    return Long.compare(sequence, other.sequence);
  }
}
