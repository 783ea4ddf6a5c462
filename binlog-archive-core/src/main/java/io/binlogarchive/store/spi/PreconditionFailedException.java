package io.binlogarchive.store.spi;

import io.binlogarchive.StoreException;
import io.binlogarchive.store.Sink;

/**
 * A conditional write ({@link Sink#replace(String, String, byte[])}, {@link Sink#delete(String,
 * String)}) found the object missing or at another version than expected; nothing was changed.
 * Never retryable: the caller must read the object again and decide.
 */
public class PreconditionFailedException extends StoreException {
  private static final long serialVersionUID = 1L;

  /**
   * @param message which object, which version was expected and what was found
   */
  public PreconditionFailedException(String message) {
    super(message, false, null);
  }
}
