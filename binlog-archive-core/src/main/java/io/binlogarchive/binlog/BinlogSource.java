package io.binlogarchive.binlog;

import io.binlogarchive.InvalidBinlogException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Lists a server's binary logs in order and says which are closed. The active (newest) file is
 * never handed out; the archiver also waits while the newest closed file's header still carries the
 * in-use flag (a rotation in progress). Once a newer file is closed, a flag left set means the server
 * crashed while writing that file, and it is archived as the crash left it.
 */
public interface BinlogSource {

  /**
   * @return the closed binlogs, oldest first by numeric sequence
   * @throws IOException if the listing cannot be read
   * @throws InvalidBinlogException if the listing names a file outside the binlog directory or
   *     not of the form {@code <basename>.<digits>}
   */
  List<BinlogFile> closedFiles() throws IOException;

  /** @return a short description for logs */
  String describe();

  /**
   * A capability: the local directory this source's files live in, if it has one. The archiver
   * watches it for new files ({@code Archiver.start()}) and checks its binlogs' age against it.
   *
   * @return the directory, or empty (the default) for a source without one
   */
  default Optional<Path> localDirectory() {
    return Optional.empty();
  }

  /**
   * Reads {@code <basename>.index} in the binlog directory; entries may be relative or absolute
   * but must name files inside that directory.
   *
   * @param indexFile the {@code .index} file
   * @return the source
   */
  static BinlogSource indexFile(Path indexFile) {
    return new IndexFileBinlogSource(indexFile);
  }

  /**
   * Finds the single {@code *.index} file in a binlog directory.
   *
   * @param binlogDir the server's binlog directory
   * @return the source
   * @throws InvalidBinlogException if there is no index file or more than one
   */
  static BinlogSource directory(Path binlogDir) {
    return new IndexFileBinlogSource(IndexFileBinlogSource.findIndex(binlogDir));
  }

  /**
   * Asks the server with {@code SHOW BINARY LOGS} over the caller's connection pool; files are read
   * from {@code binlogDir}. The library ships no JDBC driver.
   *
   * @param dataSource the caller's data source
   * @param binlogDir where the server writes its binlogs
   * @return the source
   */
  static BinlogSource showBinaryLogs(DataSource dataSource, Path binlogDir) {
    return new JdbcBinlogSource(dataSource, binlogDir);
  }
}
