package io.binlogarchive;

/** The archive and the source disagree: a local binlog differs from what is archived under its name, or the sequence is broken. The archiver halts rather than overwrite anything. */
public class ChainBreakException extends ArchiveException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what could not be done, to what, and why
   */
  public ChainBreakException(String message) {
    super(message);
  }

  /**
   * @param message what could not be done, to what, and why
   * @param cause the underlying error
   */
  public ChainBreakException(String message, Throwable cause) {
    super(message, cause);
  }
}
