package io.binlogarchive.replication.serve;

import java.util.Objects;

/**
 * A replica's position in the archive's binlogs, as the replica itself reports it ({@code
 * Relay_Master_Log_File} and {@code Exec_Master_Log_Pos} once it has applied everything it was
 * sent).
 *
 * @param file the binlog file name, e.g. {@code mysql-bin.000042}
 * @param position the byte offset in it just past the last event served
 * @param gtid the GTID of the last transaction served ({@code 0-1-5000} or {@code uuid:5000}), or
 *     {@code null} if none was served
 */
public record ServePosition(String file, long position, String gtid) {
  /**
   * Checks the arguments.
   *
   * @param file the binlog file name
   * @param position the byte offset
   * @param gtid the last GTID served, or {@code null}
   */
  public ServePosition {
    Objects.requireNonNull(file, "file");
    if (position < 4) {
      throw new IllegalArgumentException("a binlog position is at least 4, got " + position);
    }
  }

  /** @return {@code file:position} */
  @Override
  public String toString() {
    return file + ":" + position + (gtid == null ? "" : " (GTID " + gtid + ")");
  }
}
