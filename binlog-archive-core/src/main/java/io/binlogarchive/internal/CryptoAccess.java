package io.binlogarchive.internal;

import io.binlogarchive.crypto.AesGcmTransform;
import io.binlogarchive.crypto.KeyProvider;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * What the rest of the library needs of {@link AesGcmTransform} beyond its public API: its factory
 * (behind {@code Transform.aesGcm}) and the rewrap of an artifact to another key (behind {@code
 * ArchiveMaintenance.rewrap}). These are package-private in {@code AesGcmTransform}, which lends
 * them here when its class initialises. No compatibility promise.
 */
public final class CryptoAccess {
  /** The transform's package-private methods, as {@code AesGcmTransform} lends them. */
  public interface Lent {
    /** @see CryptoAccess#aesGcm(KeyProvider) */
    AesGcmTransform create(KeyProvider keys);

    /** @see CryptoAccess#rewrap(InputStream, OutputStream, KeyProvider, KeyProvider, String, String, String) */
    String rewrap(InputStream encrypted, OutputStream out, KeyProvider from, KeyProvider to, String object,
        String keyId, String codec) throws IOException;
  }

  private static final Loan<Lent> LOAN = new Loan<>(AesGcmTransform.class);

  private CryptoAccess() {}

  /**
   * Called once, by {@code AesGcmTransform}'s static initialiser.
   *
   * @param l the transform's methods
   * @throws IllegalStateException on a second call
   */
  public static void lend(Lent l) {
    LOAN.lend(l);
  }

  /**
   * @param keys gives data keys
   * @return the AES-256-GCM transform with its default segment size
   */
  public static AesGcmTransform aesGcm(KeyProvider keys) {
    return LOAN.get().create(keys);
  }

  /**
   * Moves an encrypted artifact to another key without decrypting it to storage, authenticating
   * every segment on the way; see {@code AesGcmTransform}'s {@code rewrap}.
   *
   * @param encrypted the artifact
   * @param out receives the rewrapped artifact; discard it on failure
   * @param from a provider that can unwrap the artifact's key id
   * @param to the provider whose primary key the artifact moves to
   * @param object the artifact's name for errors, or null to check nothing against a sidecar
   * @param keyId the key id its sidecar records (checked against the header when {@code object} is set)
   * @param codec the codec its sidecar records (likewise)
   * @return the key id the rewrapped artifact names
   * @throws IOException if reading or writing fails
   */
  public static String rewrap(InputStream encrypted, OutputStream out, KeyProvider from, KeyProvider to,
      String object, String keyId, String codec) throws IOException {
    return LOAN.get().rewrap(encrypted, out, from, to, object, keyId, codec);
  }
}
