package io.binlogarchive;

/**
 * A conditional create found an object already stored under the key. Sinks never overwrite; the
 * caller decides whether the existing object is the same content (an idempotent success) or a
 * chain break.
 */
public class ObjectExistsException extends ArchiveException {
  private static final long serialVersionUID = 1L;
  /** The key of the existing object. */
  private final String key;

  /**
   * @param key the object key that already exists
   * @param message what could not be done and why
   */
  public ObjectExistsException(String key, String message) {
    super(message);
    this.key = key;
  }

  /** @return the key of the existing object */
  public String key() {
    return key;
  }
}
