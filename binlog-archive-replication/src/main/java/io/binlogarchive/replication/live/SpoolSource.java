package io.binlogarchive.replication.live;

import io.binlogarchive.binlog.BinlogFile;
import io.binlogarchive.binlog.BinlogSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The spool's closed files as a {@link BinlogSource}, for the {@code Archiver} that archives each
 * file whole once the server has rotated it: none until the stream has written the spool's index.
 */
final class SpoolSource implements BinlogSource {
  private final Path spool;

  SpoolSource(Path spool) {
    this.spool = spool;
  }

  @Override
  public List<BinlogFile> closedFiles() throws IOException {
    try (var files = Files.list(spool)) {
      if (files.noneMatch(p -> p.getFileName().toString().endsWith(".index"))) {
        return List.of();
      }
    }
    return BinlogSource.directory(spool).closedFiles();
  }

  /**
   * The spool holds the server's files under the server's names, so a rotation by age ({@code --max-binlog-age})
   * reads the active file's first transaction from the spool's copy.
   */
  @Override
  public java.util.Optional<Path> localDirectory() {
    return java.util.Optional.of(spool);
  }

  @Override
  public String describe() {
    return "spool " + spool;
  }
}
