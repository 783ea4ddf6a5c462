package io.binlogarchive;

/** Data does not match its checksum or authentication tag: the object or file is corrupt, truncated, tampered with, or was decrypted with the wrong key. */
public class IntegrityException extends ArchiveException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what could not be done, to what, and why
   */
  public IntegrityException(String message) {
    super(message);
  }

  /**
   * @param message what could not be done, to what, and why
   * @param cause the underlying error
   */
  public IntegrityException(String message, Throwable cause) {
    super(message, cause);
  }
}
