package io.binlogarchive;

/**
 * A store call failed. {@link #isRetryable()} says whether the same call may succeed when tried
 * again (throttling, 5xx, a dropped connection, a timeout) or will fail again (access denied, a
 * missing bucket, a rejected checksum). Backend modules translate their SDK's errors into this
 * type in one place.
 */
public class StoreException extends ArchiveException {
  private static final long serialVersionUID = 1L;
  /** Whether trying the same call again may succeed. */
  private final boolean retryable;

  /**
   * @param message what could not be done, to which object, and why
   * @param retryable whether trying the same call again may succeed
   * @param cause the backend's error, or {@code null}
   */
  public StoreException(String message, boolean retryable, Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  /** @return whether trying the same call again may succeed */
  public boolean isRetryable() {
    return retryable;
  }
}
