package io.binlogarchive.examples;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.Function;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * A connection per call from a JDBC URL: enough for an agent that asks a few queries a minute.
 *
 * <p>The password need not sit in the URL (where the process list shows it to every local user): it
 * comes from {@code --jdbc-password-file F} or the environment variable {@value #PASSWORD_ENV}, and
 * is given to the driver as the {@code password} connection property. A password in the URL still
 * works, with a warning. No password appears in a message of this class, nor in a driver error it
 * passes on.
 */
final class UrlDataSource implements DataSource {
  /** The environment variable that may hold the password for {@code --jdbc-url}. */
  static final String PASSWORD_ENV = "BINLOG_ARCHIVE_JDBC_PASSWORD";

  /** {@code password=...} (or MariaDB's {@code password1=}, {@code password2=}) among the URL's options. */
  private static final Pattern URL_PASSWORD = Pattern.compile("(?i)[?&;(]password[12]?=([^&;)]+)");
  /** {@code user:password@host}, as MySQL Connector/J and others accept. */
  private static final Pattern USERINFO_PASSWORD = Pattern.compile("//[^/?@:]*:([^/?@]+)@");

  private final String url;
  private final String password;
  private final List<String> secrets = new ArrayList<>();

  private UrlDataSource(String url, String password) {
    if (!url.startsWith("jdbc:")) {
      // not echoed: it may hold a password
      throw new UsageException("--jdbc-url must start with jdbc:, e.g. jdbc:mariadb://127.0.0.1:3306/?user=archiver");
    }
    this.url = url;
    this.password = password;
    secrets.addAll(passwordsIn(url));
    if (password != null) {
      secrets.add(password);
    }
  }

  /**
   * The data source for {@code --jdbc-url}, or null without one.
   *
   * @param url {@code --jdbc-url}, or null
   * @param passwordFile {@code --jdbc-password-file}, or null
   * @param env where {@value #PASSWORD_ENV} is looked up
   * @param err where the warning about a password in the URL goes (one line)
   */
  static UrlDataSource fromOptions(String url, String passwordFile, Function<String, String> env, PrintStream err) {
    if (url == null) {
      if (passwordFile != null) {
        throw new UsageException("--jdbc-password-file goes with --jdbc-url");
      }
      return null;
    }
    String password = null;
    String source = null;
    if (passwordFile != null) {
      password = readPasswordFile(Path.of(passwordFile));
      source = "--jdbc-password-file";
    } else {
      String fromEnv = env.apply(PASSWORD_ENV);
      if (fromEnv != null && !fromEnv.isEmpty()) {
        password = fromEnv;
        source = PASSWORD_ENV;
      }
    }
    boolean inUrl = !passwordsIn(url).isEmpty();
    if (inUrl && password != null) {
      throw new UsageException("--jdbc-url holds a password and " + source + " gives one too; give it once,"
          + " preferably only in " + source);
    }
    if (inUrl) {
      err.println("binlog-archive: warning: --jdbc-url holds a password, which other local users can read from the"
          + " process list; use --jdbc-password-file F or the environment variable " + PASSWORD_ENV + " instead");
    }
    return new UrlDataSource(url, password);
  }

  /** Reads a password file: its content less one trailing line break. */
  private static String readPasswordFile(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new UsageException("--jdbc-password-file " + file + " does not exist");
    } catch (IOException e) {
      throw new UsageException("cannot read --jdbc-password-file " + file + ": " + e.getClass().getSimpleName());
    }
    if (text.endsWith("\n")) {
      text = text.substring(0, text.length() - (text.endsWith("\r\n") ? 2 : 1));
    }
    if (text.isEmpty()) {
      throw new UsageException("--jdbc-password-file " + file + " is empty");
    }
    return text;
  }

  static List<String> passwordsIn(String url) {
    List<String> found = new ArrayList<>();
    for (Pattern p : List.of(URL_PASSWORD, USERINFO_PASSWORD)) {
      Matcher m = p.matcher(url);
      while (m.find()) {
        found.add(m.group(1));
      }
    }
    return found;
  }

  @Override
  public Connection getConnection() throws SQLException {
    try {
      if (password == null) {
        return DriverManager.getConnection(url);
      }
      Properties p = new Properties();
      p.setProperty("password", password);
      return DriverManager.getConnection(url, p);
    } catch (SQLException e) {
      throw withoutSecrets(e);
    }
  }

  @Override
  public Connection getConnection(String user, String password) throws SQLException {
    try {
      return DriverManager.getConnection(url, user, password);
    } catch (SQLException e) {
      throw withoutSecrets(e);
    }
  }

  /** The error itself, or, if a password shows anywhere in its chain, a copy that names none. */
  private SQLException withoutSecrets(SQLException e) {
    boolean leaks = false;
    for (Throwable t = e; t != null && !leaks; t = t.getCause()) {
      String m = String.valueOf(t.getMessage());
      leaks = secrets.stream().anyMatch(m::contains);
    }
    if (!leaks) {
      return e;
    }
    String m = String.valueOf(e.getMessage());
    for (String s : secrets) {
      m = m.replace(s, "****");
    }
    return new SQLException(m, e.getSQLState(), e.getErrorCode());
  }

  @Override
  public PrintWriter getLogWriter() {
    return null;
  }

  @Override
  public void setLogWriter(PrintWriter out) {}

  @Override
  public void setLoginTimeout(int seconds) {
    DriverManager.setLoginTimeout(seconds);
  }

  @Override
  public int getLoginTimeout() {
    return DriverManager.getLoginTimeout();
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    throw new SQLFeatureNotSupportedException();
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    throw new SQLException("not a wrapper");
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) {
    return false;
  }

  /** @return the URL without any password */
  @Override
  public String toString() {
    String shown = url;
    for (String s : secrets) {
      shown = shown.replace(s, "****");
    }
    return "UrlDataSource[" + shown + "]";
  }
}
