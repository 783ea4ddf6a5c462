package io.binlogarchive;

/** A file, object, bucket or key that the operation needs does not exist. */
public class NotFoundException extends ArchiveException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what could not be done, to what, and why
   */
  public NotFoundException(String message) {
    super(message);
  }

  /**
   * @param message what could not be done, to what, and why
   * @param cause the underlying error
   */
  public NotFoundException(String message, Throwable cause) {
    super(message, cause);
  }
}
