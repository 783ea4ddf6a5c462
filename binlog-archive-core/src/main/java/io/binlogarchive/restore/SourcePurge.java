package io.binlogarchive.restore;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.Sidecar;
import io.binlogarchive.internal.binlog.BinlogNames;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ArchiveMaintenance#purgeSource}: decides how far the source server's binlogs may go and issues
 * {@code PURGE BINARY LOGS TO}. A file goes only when its local bytes are proven equal to what the
 * archive restores: a full verify decoded its artifact to the SHA-256 its sidecar records, and the
 * local file (read now) has that SHA-256 and size.
 */
final class SourcePurge {
  private static final Logger LOG = LoggerFactory.getLogger(ArchiveReader.class);
  private static final String SAFE_NAME = "[A-Za-z0-9_-][A-Za-z0-9._-]*";

  private SourcePurge() {}

  static Optional<String> run(ArchiveSurvey survey, DataSource dataSource, Path binlogDir, VerifyReport verified,
      boolean apply) throws IOException {
    if (!verified.full()) {
      throw new ArchiveException("will not purge the source: the verify report is metadata-only (sizes and store"
          + " checksums), which does not prove that an artifact decodes to its binlog; verify with full decoding"
          + " (VerifyOptions full) first");
    }
    if (verified.windows().isEmpty() || survey.timelines.isEmpty()) {
      return Optional.empty();
    }
    String newest = survey.timelines.get(survey.timelines.size() - 1);
    RestoreWindow window = null;
    for (RestoreWindow w : verified.windows()) {
      if (w.timeline().equals(newest)) {
        window = w;
      }
    }
    if (window == null) {
      return Optional.empty();
    }
    Map<String, Sidecar> archived = new LinkedHashMap<>();
    String lastWhole = null;
    for (ArchiveSurvey.Entry e : survey.entries.get(newest)) {
      if (e.usable() && !e.partial()) { // a file kept only as segments is not purged: it is not archived whole yet
        archived.put(e.file, e.sidecar);
        if (BinlogNames.sequence(e.file) <= BinlogNames.sequence(window.lastFile())) {
          lastWhole = e.file;
        }
      }
    }
    if (lastWhole == null || BinlogNames.sequence(lastWhole) < BinlogNames.sequence(window.firstFile())) {
      return Optional.empty();
    }
    if (!lastWhole.equals(window.lastFile())) {
      window = new RestoreWindow(window.timeline(), window.firstFile(), lastWhole, window.fileCount(), window.bytes(),
          window.from(), window.to(), window.startGtids(), window.endGtids());
    }
    List<String[]> server = new ArrayList<>();
    try (Connection c = dataSource.getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SHOW BINARY LOGS")) {
      while (rs.next()) {
        server.add(new String[] {rs.getString(1), rs.getString(2)});
      }
    } catch (SQLException e) {
      throw new IOException("cannot list the source server's binlogs: " + e.getMessage(), e);
    }
    for (String[] s : server) {
      if (!s[0].matches(SAFE_NAME)) {
        throw new ArchiveException("will not purge the source: unexpected binlog name '" + s[0] + "'");
      }
    }
    int last = -1;
    for (int i = 0; i < server.size(); i++) {
      if (server.get(i)[0].equals(window.lastFile())) {
        last = i;
      }
    }
    if (last < 0 || last == server.size() - 1) {
      return Optional.empty();
    }
    long lastSeq = BinlogNames.sequence(window.lastFile());
    long firstSeq = BinlogNames.sequence(window.firstFile());
    for (int i = 0; i <= last; i++) {
      String name = server.get(i)[0];
      long seq = BinlogNames.sequence(name);
      Sidecar sc = archived.get(name);
      if (seq < firstSeq || seq > lastSeq || sc == null || sc.size() != Long.parseLong(server.get(i)[1])) {
        throw new ArchiveException("will not purge the source: its binlog " + name + " (" + server.get(i)[1]
            + " bytes) is not in the verified window " + window + (sc == null ? "" : " with that size (archived: "
            + sc.size() + " bytes)"));
      }
    }
    // the first file whose local bytes are not proven stays, with everything after it
    int keepFrom = last + 1;
    for (int i = 0; i <= last; i++) {
      String name = server.get(i)[0];
      Path local = binlogDir.resolve(name);
      if (!ArchiveFetch.alreadyFetched(local, archived.get(name))) {
        LOG.atWarn().addKeyValue("binlog_filename", name)
            .log("will not purge {} or later binlogs from the source: the local file {} is missing or differs from"
                + " its archived copy (SHA-256 {} expected)", name, local, archived.get(name).sha256());
        keepFrom = i;
        break;
      }
    }
    if (keepFrom == 0) {
      return Optional.empty();
    }
    String next = server.get(keepFrom)[0];
    String sql = "PURGE BINARY LOGS TO '" + next + "'";
    if (apply) {
      try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
        st.execute(sql);
      } catch (SQLException e) {
        throw new IOException("cannot purge the source server's binlogs (" + sql + "): " + e.getMessage(), e);
      }
      LOG.atInfo().log("purged source binlogs before {} (archived, fully verified and equal to the local files up to"
          + " {})", next, server.get(keepFrom - 1)[0]);
    }
    return Optional.of(sql);
  }
}
