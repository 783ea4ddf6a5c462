package io.binlogarchive.binlog;

import io.binlogarchive.InvalidBinlogException;
import io.binlogarchive.internal.binlog.BinlogNames;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import javax.sql.DataSource;

/** Lists binlogs with {@code SHOW BINARY LOGS} over the caller's {@link DataSource}. */
final class JdbcBinlogSource implements BinlogSource {
  private final DataSource dataSource;
  private final Path dir;

  JdbcBinlogSource(DataSource dataSource, Path dir) {
    this.dataSource = java.util.Objects.requireNonNull(dataSource, "dataSource");
    this.dir = dir.toAbsolutePath().normalize();
  }

  @Override
  public List<BinlogFile> closedFiles() throws IOException {
    List<BinlogFile> files = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SHOW BINARY LOGS")) {
      while (rs.next()) {
        String name = rs.getString(1);
        long seq = BinlogNames.sequence(name);
        if (!BinlogNames.isPlainFileName(name) || seq < 0) {
          throw new InvalidBinlogException(
              "SHOW BINARY LOGS returned '" + name + "', not a binlog name of the form <basename>.<digits>");
        }
        files.add(new BinlogFile(name, dir.resolve(name), seq));
      }
    } catch (SQLException e) {
      throw new IOException("SHOW BINARY LOGS failed: " + e.getMessage(), e);
    }
    Collections.sort(files);
    return files.isEmpty() ? List.of() : List.copyOf(files.subList(0, files.size() - 1));
  }

  @Override
  public java.util.Optional<Path> localDirectory() {
    return java.util.Optional.of(dir);
  }

  @Override
  public String describe() {
    return "SHOW BINARY LOGS, files in " + dir;
  }
}
