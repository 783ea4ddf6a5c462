package io.binlogarchive.crypto;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * Envelope encryption keys: hands out fresh data keys together with their wrapped form, and
 * unwraps stored ones by key id.
 *
 * <p>Each encrypted artifact gets its own random data key; only its wrapped form is stored (in
 * the artifact header). The key id travels with it, so decryption needs nothing but a provider
 * that knows that id. {@link StaticKeyProvider} keeps master keys in local files or environment
 * variables; a cloud KMS provider maps {@link #newDataKey()} to {@code GenerateDataKey} (plaintext
 * plus ciphertext blob), {@link #wrap(byte[])} to {@code Encrypt} and {@link #unwrap(String,
 * byte[])} to {@code Decrypt}.
 *
 * <p>Implementations must be thread-safe and must never log or put key bytes into exception
 * messages. Errors are unchecked: {@link NotFoundException} when the key id is unknown, {@link
 * IntegrityException} when the wrapped key does not authenticate under that key.
 */
public interface KeyProvider {

  /** @return the id of the key that {@link #newDataKey()} and {@link #wrap(byte[])} use now */
  String primaryKeyId();

  /**
   * Creates a fresh random 32-byte data key wrapped under {@link #primaryKeyId()}. The default
   * draws the key from {@link SecureRandom} and calls {@link #wrap(byte[])}; a KMS provider may
   * instead have the KMS generate it.
   *
   * @return a new data key; the caller destroys it
   */
  default DataKey newDataKey() {
    return freshDataKey(this, new SecureRandom());
  }

  /**
   * Draws a fresh 32-byte key from {@code random}, wraps it with {@code provider} and wipes the local
   * copy: {@link #newDataKey()} for a provider that takes its randomness as a setting.
   *
   * @param provider the provider whose {@link #wrap(byte[])} wraps the key
   * @param random where the key bytes come from
   * @return a new data key; the caller destroys it
   */
  static DataKey freshDataKey(KeyProvider provider, SecureRandom random) {
    byte[] key = new byte[DataKey.LENGTH];
    try {
      random.nextBytes(key);
      return provider.wrap(key);
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  /**
   * Wraps existing data key bytes under {@link #primaryKeyId()}: how {@link
   * AesGcmTransform#rewrap} moves an artifact to another key without touching its data.
   *
   * @param plaintextKey 32 key bytes; not retained (the result holds its own copy)
   * @return the data key with its new wrapped form and key id
   */
  DataKey wrap(byte[] plaintextKey);

  /**
   * Recovers a data key from its wrapped form.
   *
   * @param keyId the key id stored beside the wrapped key
   * @param wrappedKey the wrapped key bytes
   * @return the data key; the caller destroys it
   * @throws NotFoundException if this provider has no key with that id
   * @throws IntegrityException if the wrapped key does not authenticate under that key
   */
  DataKey unwrap(String keyId, byte[] wrappedKey);
}
