package io.binlogarchive.replication;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Assumptions;

/**
 * The real MySQL server named by {@code BINLOG_ARCHIVE_MYSQL_URL} ({@code mysql://USER:PASSWORD@HOST:PORT});
 * the tests that need one are skipped, with the reason, when it is not set.
 *
 * @param host the server's host
 * @param port its port (3306 if the URL has none)
 * @param user the user to log in as
 * @param password its password (never printed)
 */
public record MySqlUrl(String host, int port, String user, String password) {
  /** The server of {@code BINLOG_ARCHIVE_MYSQL_URL}; aborts the calling test (skipped) when it is not set. */
  public static MySqlUrl fromEnvironmentOrSkip() {
    String env = System.getenv("BINLOG_ARCHIVE_MYSQL_URL");
    Assumptions.assumeTrue(env != null && !env.isBlank(),
        "BINLOG_ARCHIVE_MYSQL_URL is not set: no MySQL server to test against (none can run on this machine)");
    URI url = URI.create(env);
    String[] info = url.getRawUserInfo().split(":", 2);
    return new MySqlUrl(url.getHost(), url.getPort() < 0 ? 3306 : url.getPort(),
        URLDecoder.decode(info[0], StandardCharsets.UTF_8),
        info.length > 1 ? URLDecoder.decode(info[1], StandardCharsets.UTF_8) : "");
  }

  @Override
  public String toString() {
    return user + "@" + host + ":" + port;
  }
}
