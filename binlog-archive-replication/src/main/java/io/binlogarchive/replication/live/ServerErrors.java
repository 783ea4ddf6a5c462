package io.binlogarchive.replication.live;

import java.util.Locale;

/**
 * Sorts the server's errors into those a reconnect may cure (a restart, a shutdown in progress, too many
 * connections, a killed connection) and those only an administrator can: authentication, missing
 * privileges, commands or settings the server refuses. The latter end {@link LiveStream#run()}.
 */
final class ServerErrors {
  private ServerErrors() {}

  /** @return true if retrying cannot help: the account, its privileges or the server's settings must change */
  static boolean fatal(int code) {
    switch (code) {
      case 1044: // ER_DBACCESS_DENIED_ERROR
      case 1045: // ER_ACCESS_DENIED_ERROR (wrong password, unknown user)
      case 1047: // ER_UNKNOWN_COM_ERROR
      case 1064: // ER_PARSE_ERROR: the server does not know a statement a replica sends
      case 1129: // ER_HOST_IS_BLOCKED
      case 1130: // ER_HOST_NOT_PRIVILEGED
      case 1142: // ER_TABLEACCESS_DENIED_ERROR
      case 1143: // ER_COLUMNACCESS_DENIED_ERROR
      case 1193: // ER_UNKNOWN_SYSTEM_VARIABLE
      case 1227: // ER_SPECIFIC_ACCESS_DENIED_ERROR (a missing privilege)
      case 1251: // ER_NOT_SUPPORTED_AUTH_MODE
      case 1275: // ER_SERVER_IS_IN_SECURE_AUTH_MODE: the account has a pre-4.1 password
      case 1370: // ER_PROCACCESS_DENIED_ERROR
      case 1381: // ER_NO_BINARY_LOGGING
      case 1698: // ER_ACCESS_DENIED_NO_PASSWORD_ERROR
      case 1820: // ER_MUST_CHANGE_PASSWORD
      case 1862: // ER_MUST_CHANGE_PASSWORD_LOGIN
      case 3118: // MySQL: ER_ACCOUNT_HAS_BEEN_LOCKED
      case 4151: // MariaDB: ER_ACCOUNT_HAS_BEEN_LOCKED
        return true;
      default:
        return false;
    }
  }

  /**
   * The error, restated for whoever runs the stream: which server, which user, what the server said and
   * what to change.
   */
  static ServerErrorException explain(ServerErrorException e, SourceConfig source) {
    String who = "binlog stream from " + source.host() + ":" + source.port() + " as user '" + source.user() + "'";
    return new ServerErrorException(who + " cannot go on (not retried): " + e.getMessage() + "; " + remedy(e, source),
        e);
  }

  private static String remedy(ServerErrorException e, SourceConfig source) {
    String m = e.getMessage().toUpperCase(Locale.ROOT);
    String grant = " ON *.* TO '" + source.user() + "'";
    boolean replicating = m.contains("COM_BINLOG_DUMP") || m.contains("COM_REGISTER_SLAVE") || m.contains("BINLOG STREAM OF");
    if (replicating && (e.errorCode() == 1045 || e.errorCode() == 1227)) {
      // MariaDB answers a replication command from an account without the privilege with 1045
      return "grant REPLICATION SLAVE" + grant;
    }
    switch (e.errorCode()) {
      case 1045:
      case 1698:
        return "check the user name, its password and that the account may connect from this host";
      case 1129:
        return "the server blocked this host after too many failed connections: run FLUSH HOSTS on it";
      case 1130:
        return "the account may not connect from this host: create it for this host or '%'";
      case 1820:
      case 1862:
        return "the account's password has expired: set a new one";
      case 1275:
        return "the account has a pre-4.1 password: set a new one (mysql_native_password)";
      case 3118:
      case 4151:
        return "the account is locked: ALTER USER ... ACCOUNT UNLOCK";
      case 1381:
        return "the server does not write a binlog: start it with log_bin";
      case 1047:
      case 1064:
      case 1193:
        return "the server does not support a command or variable a replica needs; is it MySQL 5.7+ or MariaDB 10.3+?";
      default:
        break;
    }
    if (m.contains("REPLICATION SLAVE") || m.contains("REPLICATION_SLAVE")) {
      return "grant REPLICATION SLAVE" + grant;
    }
    if (m.contains("SHOW BINARY LOGS") || m.contains("BINLOG MONITOR") || m.contains("REPLICATION CLIENT")) {
      return "grant REPLICATION CLIENT" + grant + " (MariaDB 10.5+ calls it BINLOG MONITOR), or name the first binlog"
          + " with LiveStream.Builder.startFile";
    }
    return "grant the account the privilege the server names (a replica needs REPLICATION SLAVE, and REPLICATION"
        + " CLIENT to list binlogs)";
  }
}
