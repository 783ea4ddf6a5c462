package io.binlogarchive.replication.serve;

import io.binlogarchive.replication.internal.PacketChannel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the statements a replica's I/O thread sends before it asks for the binlog: {@code SELECT}
 * of system variables, user variables and {@code UNIX_TIMESTAMP()}; {@code SHOW VARIABLES LIKE};
 * {@code SET} of user variables (remembered per connection: the dump reads {@code
 * @slave_connect_state}, {@code @master_heartbeat_period}, ...) and of session settings (accepted).
 * Anything else is refused with an error that names the statement, so nothing passes silently.
 */
final class SetupQueries {
  private static final Logger LOG = LoggerFactory.getLogger(SetupQueries.class);
  static final int ER_UNKNOWN_ERROR = 1105;
  static final int ER_UNKNOWN_SYSTEM_VARIABLE = 1193;
  static final int ER_NOT_SUPPORTED_YET = 1235;
  private static final Pattern SHOW_VARIABLES =
      Pattern.compile("SHOW\\s+(?:GLOBAL\\s+|SESSION\\s+)?VARIABLES\\s+LIKE\\s+'([^']*)'", Pattern.CASE_INSENSITIVE);
  private static final Pattern SYSTEM_VARIABLE =
      Pattern.compile("@@(?:GLOBAL\\.|SESSION\\.|LOCAL\\.)?`?([A-Za-z0-9_]+)`?", Pattern.CASE_INSENSITIVE);
  private static final Pattern USER_VARIABLE = Pattern.compile("@`?([A-Za-z0-9_.$]+)`?");

  private static final Pattern BINLOG_GTID_POS =
      Pattern.compile("BINLOG_GTID_POS\\(\\s*'([^']*)'\\s*,\\s*([0-9]+)\\s*\\)", Pattern.CASE_INSENSITIVE);

  /** MariaDB's {@code BINLOG_GTID_POS(file, pos)}. */
  @FunctionalInterface
  interface GtidPositions {
    /** @return the GTID state at {@code file:position}, or null if unknown */
    String at(String file, long position);
  }

  private final Map<String, String> globals;
  private final GtidPositions gtidPositions;
  private final Map<String, String> userVariables = new HashMap<>();

  /**
   * @param globals the server's system variables, by lower-case name
   * @param gtidPositions answers {@code BINLOG_GTID_POS}
   */
  SetupQueries(Map<String, String> globals, GtidPositions gtidPositions) {
    this.globals = globals;
    this.gtidPositions = gtidPositions;
  }

  /** A user variable the replica set on this connection, or null. */
  String userVariable(String name) {
    return userVariables.get(name.toLowerCase(Locale.ROOT));
  }

  /** Answers one COM_QUERY. */
  void answer(PacketChannel ch, int capabilities, String sql) throws IOException {
    String q = sql.strip();
    while (q.endsWith(";")) {
      q = q.substring(0, q.length() - 1).strip();
    }
    String upper = q.toUpperCase(Locale.ROOT);
    if (upper.contains("PASSWORD") || upper.contains("IDENTIFIED")) {
      // no replica sends a secret here; a person might: never log or echo it
      q = q.split("\\s+", 2)[0] + " ... (a statement naming a password, not shown)";
      Responses.error(ch, ER_NOT_SUPPORTED_YET, "42000", "binlog-archive serve only answers a replica's setup queries,"
          + " not: " + q);
      LOG.debug("refused replica query: {}", q);
      return;
    }
    LOG.debug("replica query: {}", q);
    try {
      if (upper.startsWith("SET ")) {
        set(q.substring(4));
        Responses.ok(ch);
      } else if (upper.startsWith("SELECT ")) {
        select(ch, capabilities, q.substring(7));
      } else if (SHOW_VARIABLES.matcher(q).matches()) {
        Matcher m = SHOW_VARIABLES.matcher(q);
        m.matches();
        Pattern like = likePattern(m.group(1));
        List<List<String>> rows = new ArrayList<>();
        globals.entrySet().stream().filter(e -> like.matcher(e.getKey()).matches()).sorted(Map.Entry.comparingByKey())
            .forEach(e -> rows.add(List.of(e.getKey(), e.getValue())));
        Responses.resultSet(ch, capabilities, List.of("Variable_name", "Value"), rows);
      } else {
        refuse(ch, q);
      }
    } catch (Unanswerable e) {
      LOG.debug("refused replica query {}: {}", q, e.getMessage());
      Responses.error(ch, e.code, e.code == ER_UNKNOWN_SYSTEM_VARIABLE ? "HY000" : "42000", e.getMessage());
    }
  }

  private static void refuse(PacketChannel ch, String q) throws IOException {
    LOG.debug("refused replica query: {}", q);
    Responses.error(ch, ER_NOT_SUPPORTED_YET, "42000", "binlog-archive serve only answers a replica's setup queries,"
        + " not: " + abbreviate(q));
  }

  private void set(String assignments) {
    for (String a : splitTopLevel(assignments)) {
      String s = a.strip();
      int eq = s.indexOf('=');
      if (s.startsWith("@") && !s.startsWith("@@") && eq > 0) {
        String name = s.substring(1, eq).replace(":", "").replace("`", "").strip().toLowerCase(Locale.ROOT);
        userVariables.put(name, value(s.substring(eq + 1).replaceFirst("^:", "").strip()));
      }
      // SET NAMES, SET @@session.x=..., SET autocommit=1: session settings with no effect on a dump
    }
  }

  private void select(PacketChannel ch, int capabilities, String list) throws IOException {
    String items = list.replaceFirst("(?i)\\s+LIMIT\\s+\\d+\\s*$", "");
    List<String> columns = new ArrayList<>();
    List<String> row = new ArrayList<>();
    for (String item : splitTopLevel(items)) {
      String expr = item.strip();
      String name = expr;
      Matcher alias = Pattern.compile("(?i)^(.*?)\\s+(?:AS\\s+)?`?([A-Za-z0-9_]+)`?$").matcher(expr);
      if (!expr.startsWith("'") && alias.matches() && !alias.group(1).isBlank()) {
        expr = alias.group(1).strip();
        name = alias.group(2);
      }
      columns.add(name);
      row.add(value(expr));
    }
    Responses.resultSet(ch, capabilities, columns, List.of(row));
  }

  /** The value of an expression of the few kinds replicas send. */
  private String value(String expr) {
    String e = expr.strip();
    String upper = e.toUpperCase(Locale.ROOT);
    Matcher sys = SYSTEM_VARIABLE.matcher(e);
    if (sys.matches()) {
      String v = globals.get(sys.group(1).toLowerCase(Locale.ROOT));
      if (v == null) {
        throw new Unanswerable(ER_UNKNOWN_SYSTEM_VARIABLE, "Unknown system variable '" + sys.group(1) + "'");
      }
      return v;
    }
    Matcher user = USER_VARIABLE.matcher(e);
    if (user.matches()) {
      return userVariables.get(user.group(1).toLowerCase(Locale.ROOT));
    }
    if (upper.equals("UNIX_TIMESTAMP()")) {
      return Long.toString(System.currentTimeMillis() / 1000);
    }
    Matcher gtidPos = BINLOG_GTID_POS.matcher(e);
    if (gtidPos.matches()) {
      return gtidPositions.at(gtidPos.group(1), Long.parseLong(gtidPos.group(2)));
    }
    if (upper.equals("VERSION()")) {
      return globals.get("version");
    }
    if (upper.equals("NULL")) {
      return null;
    }
    if (e.length() >= 2 && (e.charAt(0) == '\'' || e.charAt(0) == '"') && e.charAt(e.length() - 1) == e.charAt(0)) {
      return e.substring(1, e.length() - 1).replace("\\'", "'").replace("''", "'");
    }
    if (e.matches("[-+]?[0-9]+(\\.[0-9]+)?")) {
      return e;
    }
    throw new Unanswerable(ER_NOT_SUPPORTED_YET, "binlog-archive serve cannot evaluate '" + abbreviate(e) + "'");
  }

  /** Splits at commas outside quotes and parentheses. */
  private static List<String> splitTopLevel(String s) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    char quote = 0;
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (quote != 0) {
        if (c == '\\') {
          i++;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '\'' || c == '"' || c == '`') {
        quote = c;
      } else if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        out.add(s.substring(start, i));
        start = i + 1;
      }
    }
    out.add(s.substring(start));
    return out;
  }

  private static Pattern likePattern(String like) {
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < like.length(); i++) {
      char c = like.charAt(i);
      if (c == '\\' && i + 1 < like.length()) {
        re.append(Pattern.quote(String.valueOf(like.charAt(++i))));
      } else if (c == '%') {
        re.append(".*");
      } else if (c == '_') {
        re.append('.');
      } else {
        re.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(re.toString(), Pattern.CASE_INSENSITIVE);
  }

  private static String abbreviate(String s) {
    return s.length() <= 200 ? s : s.substring(0, 200) + "...";
  }

  /** A statement serve refuses, with the error number to answer. */
  private static final class Unanswerable extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int code;

    Unanswerable(int code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }
}
