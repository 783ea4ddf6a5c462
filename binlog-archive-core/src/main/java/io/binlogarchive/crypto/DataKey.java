package io.binlogarchive.crypto;

import java.util.Arrays;
import java.util.Objects;
import javax.security.auth.Destroyable;

/**
 * A 32-byte data key together with its wrapped (encrypted) form and the id of the key that
 * wrapped it: the unit of envelope encryption.
 *
 * <p>The plaintext bytes never leave this object through its public API: {@link #toString()}
 * shows only the key id and the size of the wrapped form, and {@link #destroy()} (also run by
 * {@link #close()}) overwrites them with zeros. Use it in try-with-resources. Instances are not
 * thread-safe.
 *
 * <p>{@link KeyProvider} implementations create instances with {@link #of(String, byte[], byte[])},
 * e.g. from the plaintext and ciphertext blob of a cloud KMS {@code GenerateDataKey} call.
 */
public final class DataKey implements Destroyable, AutoCloseable {
  /** Length of every data key in bytes (AES-256). */
  public static final int LENGTH = 32;

  private final String keyId;
  private final byte[] key;
  private final byte[] wrapped;
  private boolean destroyed;

  private DataKey(String keyId, byte[] key, byte[] wrapped) {
    this.keyId = keyId;
    this.key = key;
    this.wrapped = wrapped;
  }

  /**
   * Checks that {@code plaintextKey} has the length of a data key, for a provider's {@code wrap}.
   *
   * @param plaintextKey the key bytes
   * @throws IllegalArgumentException if they are not {@link #LENGTH} bytes
   */
  public static void requireLength(byte[] plaintextKey) {
    Objects.requireNonNull(plaintextKey, "plaintextKey");
    if (plaintextKey.length != LENGTH) {
      throw new IllegalArgumentException("a data key must be " + LENGTH + " bytes, got " + plaintextKey.length);
    }
  }

  /**
   * Creates a data key from its parts; both arrays are copied, so the caller should zero its own
   * copy of {@code plaintextKey} afterwards.
   *
   * @param keyId id of the key-encryption key that produced {@code wrappedKey}; not blank
   * @param plaintextKey the 32 key bytes
   * @param wrappedKey the key bytes encrypted under {@code keyId}; not empty
   * @return the data key
   * @throws IllegalArgumentException if the key is not 32 bytes, the key id is blank or the
   *     wrapped form is empty
   */
  public static DataKey of(String keyId, byte[] plaintextKey, byte[] wrappedKey) {
    Objects.requireNonNull(keyId, "keyId");
    Objects.requireNonNull(plaintextKey, "plaintextKey");
    Objects.requireNonNull(wrappedKey, "wrappedKey");
    if (keyId.isBlank()) {
      throw new IllegalArgumentException("data key id must not be blank");
    }
    if (plaintextKey.length != LENGTH) {
      throw new IllegalArgumentException(
          "data key for key id '" + keyId + "' must be " + LENGTH + " bytes, got "
              + plaintextKey.length);
    }
    if (wrappedKey.length == 0) {
      throw new IllegalArgumentException("wrapped data key for key id '" + keyId + "' is empty");
    }
    return new DataKey(keyId, plaintextKey.clone(), wrappedKey.clone());
  }

  /** @return the id of the key-encryption key the wrapped form was made with */
  public String keyId() {
    return keyId;
  }

  /** @return a copy of the wrapped (encrypted) key bytes; safe to store */
  public byte[] wrappedKey() {
    return wrapped.clone();
  }

  /**
   * The live plaintext array, for this package's ciphers only: callers must not keep or change it.
   */
  byte[] plaintext() {
    if (destroyed) {
      throw new IllegalStateException("data key for key id '" + keyId + "' was destroyed");
    }
    return key;
  }

  /** Overwrites the plaintext key bytes with zeros; the key cannot be used afterwards. */
  @Override
  public void destroy() {
    Arrays.fill(key, (byte) 0);
    destroyed = true;
  }

  /** @return whether {@link #destroy()} has run */
  @Override
  public boolean isDestroyed() {
    return destroyed;
  }

  /** Same as {@link #destroy()}. */
  @Override
  public void close() {
    destroy();
  }

  /** @return the key id and wrapped size, never key bytes */
  @Override
  public String toString() {
    return "DataKey[keyId=" + keyId + ", wrapped=" + wrapped.length + " bytes"
        + (destroyed ? ", destroyed" : "") + "]";
  }
}
