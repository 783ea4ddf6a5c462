package io.binlogarchive;

/** A file is not a valid MySQL/MariaDB binary log: wrong magic, a truncated or malformed event, or a file that is still being written. */
public class InvalidBinlogException extends ArchiveException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what could not be done, to what, and why
   */
  public InvalidBinlogException(String message) {
    super(message);
  }

  /**
   * @param message what could not be done, to what, and why
   * @param cause the underlying error
   */
  public InvalidBinlogException(String message, Throwable cause) {
    super(message, cause);
  }
}
