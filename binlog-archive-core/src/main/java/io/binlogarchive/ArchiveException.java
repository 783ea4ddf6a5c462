package io.binlogarchive;

/**
 * Base of every unchecked error the library raises. Messages say what could not be done, to which
 * file or object, and why; they never contain key material.
 *
 * <p>Subclasses form a small taxonomy: {@link IntegrityException} (checksum or authentication tag
 * mismatch), {@link ChainBreakException} (the archive and the source disagree), {@link
 * ObjectExistsException}, {@link NotFoundException}, {@link InvalidBinlogException} and {@link
 * StoreException} (with {@link StoreException#isRetryable()}).
 */
public class ArchiveException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message what could not be done, to what, and why
   */
  public ArchiveException(String message) {
    super(message);
  }

  /**
   * @param message what could not be done, to what, and why
   * @param cause the underlying error
   */
  public ArchiveException(String message, Throwable cause) {
    super(message, cause);
  }
}
