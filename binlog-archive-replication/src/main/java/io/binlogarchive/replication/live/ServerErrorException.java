package io.binlogarchive.replication.live;

import java.io.IOException;

/** The server answered with an error packet; the message is the server's own, with its code and SQL state. */
public class ServerErrorException extends IOException {
  private static final long serialVersionUID = 1L;
  private final int errorCode;
  private final String sqlState;

  /**
   * @param what what was being done (e.g. "COM_BINLOG_DUMP of mysql-bin.000003 at 4")
   * @param errorCode the server's error number
   * @param sqlState the SQL state, or an empty string
   * @param serverMessage the server's message
   */
  public ServerErrorException(String what, int errorCode, String sqlState, String serverMessage) {
    super(what + " failed: server error " + errorCode + (sqlState.isEmpty() ? "" : " (" + sqlState + ")") + ": "
        + serverMessage);
    this.errorCode = errorCode;
    this.sqlState = sqlState;
  }

  /** The same server error, restated with more context. */
  ServerErrorException(String message, ServerErrorException cause) {
    super(message, cause);
    this.errorCode = cause.errorCode;
    this.sqlState = cause.sqlState;
  }

  /** @return the server's error number, e.g. 1236 for a binlog the server cannot send */
  public int errorCode() {
    return errorCode;
  }

  /** @return the five-character SQL state, or an empty string */
  public String sqlState() {
    return sqlState;
  }
}
