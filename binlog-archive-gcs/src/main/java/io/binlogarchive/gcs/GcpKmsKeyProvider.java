package io.binlogarchive.gcs;

import io.binlogarchive.StoreException;
import io.binlogarchive.codec.Transform;
import com.google.auth.Credentials;
import com.google.auth.oauth2.GoogleCredentials;
import io.binlogarchive.crypto.DataKey;
import io.binlogarchive.store.spi.Endpoints;
import io.binlogarchive.store.spi.SettingsProblems;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.RetryPolicy;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A {@link KeyProvider} whose master keys are Google Cloud KMS symmetric keys (purpose {@code
 * ENCRYPT_DECRYPT}): envelope encryption in which the data key never leaves this process in the
 * clear and the master key never leaves KMS.
 *
 * <p>Cloud KMS has no "generate data key" call, so {@link #newDataKey()} draws 32 random bytes
 * locally and wraps them with KMS {@code cryptoKeys.encrypt}; {@link #unwrap(String, byte[])}
 * calls {@code cryptoKeys.decrypt}. Both go to the KMS REST API ({@code
 * https://cloudkms.googleapis.com/v1/{name}:encrypt}) through the JDK's HTTP client, with CRC32C
 * integrity fields in both directions and the fixed additional authenticated data {@value
 * #ADDITIONAL_AUTHENTICATED_DATA}, so that a ciphertext made under the same key for another purpose
 * is never accepted as a data key.
 *
 * <p>The key id recorded in every artifact is the CryptoKey's full resource name, {@code
 * projects/P/locations/L/keyRings/R/cryptoKeys/K}: artifacts name their key without a mapping
 * table, and KMS key-version rotation needs nothing from us (the ciphertext names the version, and
 * decryption with the CryptoKey's name finds it). To move to another CryptoKey, make it the
 * {@linkplain Builder#keyName primary} and list the old one with {@link Builder#unwrapKeyName}.
 * The provider unwraps only under the names it was given: an artifact whose header names any other
 * key fails with {@link NotFoundException} instead of making the caller's identity decrypt with a
 * key chosen by whoever wrote the artifact.
 *
 * <pre>{@code
 * KeyProvider keys = GcpKmsKeyProvider.builder()
 *     .keyName("projects/p/locations/europe-west1/keyRings/backups/cryptoKeys/binlogs")
 *     .credentials(GoogleCredentials.getApplicationDefault())
 *     .build();
 * archiverBuilder.encryption(Transform.aesGcm(keys));
 * }</pre>
 *
 * <p>Errors: a refused decryption (wrong key, corrupt wrapped key) is an {@link
 * IntegrityException}; a key KMS does not know, or one this provider was not given, a {@link
 * NotFoundException}; everything else an {@link io.binlogarchive.StoreException} whose {@link
 * io.binlogarchive.StoreException#isRetryable() retryable} flag is set for 408, 429, 5xx, dropped
 * connections, timeouts and answers that fail their CRC32C, and clear for access denied (401, 403)
 * and other rejected requests. Each call is retried under the provider's {@link RetryPolicy}.
 * Key bytes never appear in logs, exception messages or {@link #toString()}.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class GcpKmsKeyProvider implements KeyProvider {
  /** Where Cloud KMS's REST API lives. */
  public static final URI DEFAULT_ENDPOINT = URI.create("https://cloudkms.googleapis.com");

  /**
   * The additional authenticated data of every wrap and unwrap call (UTF-8). Decrypting a wrapped
   * key by hand ({@code gcloud kms decrypt}) needs it, e.g. through {@code
   * --additional-authenticated-data-file}.
   */
  public static final String ADDITIONAL_AUTHENTICATED_DATA = "binlog-archive data key v1";

  /** The OAuth scope requested for credentials that need one. */
  static final String SCOPE = "https://www.googleapis.com/auth/cloudkms";

  private static final Pattern CRYPTO_KEY =
      Pattern.compile("projects/[^/\\s]+/locations/[^/\\s]+/keyRings/[^/\\s]+/cryptoKeys/[^/\\s]+");
  private static final byte[] AAD = ADDITIONAL_AUTHENTICATED_DATA.getBytes(StandardCharsets.UTF_8);

  private final String primary;
  private final Set<String> keyNames;
  private final URI endpoint;
  private final GcpKmsClient client;
  private final SecureRandom random;

  private GcpKmsKeyProvider(Builder b, Set<String> keyNames, Credentials credentials) {
    this.primary = b.primary;
    this.keyNames = keyNames;
    this.endpoint = b.endpoint;
    this.random = b.random != null ? b.random : new SecureRandom();
    HttpClient http =
        b.httpClient != null
            ? b.httpClient
            : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    this.client = new GcpKmsClient(b.endpoint, credentials, http, b.requestTimeout, b.retryPolicy);
  }

  /** @return a builder with no key, no credentials and the default endpoint */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the primary CryptoKey's resource name: the key id of new artifacts */
  @Override
  public String primaryKeyId() {
    return primary;
  }

  /** @return the CryptoKey names this provider unwraps with, the primary first */
  public Set<String> keyNames() {
    return keyNames;
  }

  /**
   * Draws 32 random bytes locally and wraps them with KMS {@code encrypt} under the primary key.
   *
   * @return the data key; the caller destroys it
   * @throws io.binlogarchive.StoreException if KMS cannot be reached or refuses
   */
  @Override
  public DataKey newDataKey() {
    return KeyProvider.freshDataKey(this, random);
  }

  /**
   * Wraps existing key bytes with KMS {@code encrypt} under the primary key.
   *
   * @param plaintextKey 32 bytes; not retained
   * @return the data key with its KMS ciphertext as wrapped form
   * @throws IllegalArgumentException if the key is not 32 bytes
   * @throws io.binlogarchive.StoreException if KMS cannot be reached or refuses
   */
  @Override
  public DataKey wrap(byte[] plaintextKey) {
    DataKey.requireLength(plaintextKey);
    GcpKmsClient.Encrypted e = client.encrypt(primary, plaintextKey, AAD);
    return DataKey.of(primary, plaintextKey, e.ciphertext());
  }

  /**
   * Unwraps with KMS {@code decrypt}.
   *
   * @param keyId the CryptoKey name recorded with the wrapped key
   * @param wrappedKey the KMS ciphertext
   * @return the data key; the caller destroys it
   * @throws NotFoundException if {@code keyId} is not one of {@link #keyNames()}, or KMS has no such
   *     key
   * @throws IntegrityException if KMS refuses to decrypt the wrapped key, or it does not hold 32
   *     bytes
   * @throws io.binlogarchive.StoreException if KMS cannot be reached or refuses access
   */
  @Override
  public DataKey unwrap(String keyId, byte[] wrappedKey) {
    Objects.requireNonNull(keyId, "keyId");
    Objects.requireNonNull(wrappedKey, "wrappedKey");
    if (!keyNames.contains(keyId)) {
      throw new NotFoundException(
          "cannot unwrap data key: key id '" + keyId + "' is not a Cloud KMS key this GcpKmsKeyProvider was given ("
              + keyNames + "); add it with unwrapKeyName");
    }
    if (wrappedKey.length == 0) {
      throw new IntegrityException("cannot unwrap data key under Cloud KMS key " + keyId + ": wrapped key is empty");
    }
    byte[] key = client.decrypt(keyId, wrappedKey, AAD);
    try {
      if (key.length != DataKey.LENGTH) {
        throw new IntegrityException(
            "cannot unwrap data key under Cloud KMS key " + keyId + ": it decrypts to " + key.length
                + " bytes, not " + DataKey.LENGTH + "; it is not a data key of this library");
      }
      return DataKey.of(keyId, key, wrappedKey);
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  /** @return the key names and endpoint, never key bytes or credentials */
  @Override
  public String toString() {
    return "GcpKmsKeyProvider[primary=" + primary + ", keys=" + keyNames + ", endpoint=" + endpoint + "]";
  }

  /**
   * Configures a {@link GcpKmsKeyProvider}; {@link #build()} reports every missing or bad setting
   * at once. Not thread-safe.
   */
  public static final class Builder {
    private String primary;
    private final List<String> unwrapOnly = new ArrayList<>();
    private Credentials credentials;
    private URI endpoint = DEFAULT_ENDPOINT;
    private HttpClient httpClient;
    private Duration requestTimeout = Duration.ofSeconds(30);
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private SecureRandom random;
    private boolean allowInsecureEndpoint;

    private Builder() {}

    /**
     * Sets the primary key: new data keys are wrapped under it, and its name is their key id.
     *
     * @param cryptoKeyName {@code projects/P/locations/L/keyRings/R/cryptoKeys/K} (a CryptoKey,
     *     not a CryptoKeyVersion: KMS decrypts only by CryptoKey name)
     * @return this builder
     * @throws IllegalArgumentException if the name is not a CryptoKey resource name
     */
    public Builder keyName(String cryptoKeyName) {
      this.primary = checkName(cryptoKeyName);
      return this;
    }

    /**
     * Adds a CryptoKey this provider may unwrap with but never wraps under, e.g. the key used
     * before moving to a new primary.
     *
     * @param cryptoKeyName {@code projects/P/locations/L/keyRings/R/cryptoKeys/K}
     * @return this builder
     * @throws IllegalArgumentException if the name is not a CryptoKey resource name
     */
    public Builder unwrapKeyName(String cryptoKeyName) {
      unwrapOnly.add(checkName(cryptoKeyName));
      return this;
    }

    /**
     * Sets the credentials that authorise the KMS calls, e.g. {@code
     * GoogleCredentials.getApplicationDefault()}. Google credentials that need a scope get the
     * Cloud KMS scope. Required; the library never finds credentials by itself. {@code
     * com.google.cloud.NoCredentials} sends no {@code Authorization} header (test endpoints only).
     *
     * @param credentials the caller's credentials
     * @return this builder
     */
    public Builder credentials(Credentials credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    /**
     * Sets the KMS REST endpoint (default {@link #DEFAULT_ENDPOINT}), e.g. a regional or private
     * endpoint, or a test server.
     *
     * @param endpoint an {@code https} URI without path, or an {@code http} one on a loopback
     *     address (others only with {@link #allowInsecureEndpoint(boolean)})
     * @return this builder
     * @throws IllegalArgumentException if it is not an absolute http(s) URI
     */
    public Builder endpoint(URI endpoint) {
      Objects.requireNonNull(endpoint, "endpoint");
      String scheme = endpoint.getScheme();
      if (!("https".equals(scheme) || "http".equals(scheme)) || endpoint.getHost() == null) {
        throw new IllegalArgumentException("KMS endpoint must be an absolute http(s) URI, got " + endpoint);
      }
      this.endpoint = endpoint;
      return this;
    }

    /**
     * Sets the HTTP client (proxy, TLS and connection settings are the caller's); by default one
     * with a 10 s connect timeout.
     *
     * @param client the client, shared freely
     * @return this builder
     */
    public Builder httpClient(HttpClient client) {
      this.httpClient = Objects.requireNonNull(client, "httpClient");
      return this;
    }

    /**
     * @param timeout the longest one KMS call may take (default 30 s), positive
     * @return this builder
     */
    public Builder requestTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "requestTimeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("requestTimeout must be positive, got " + timeout);
      }
      this.requestTimeout = timeout;
      return this;
    }

    /**
     * @param policy how each KMS call is retried (default {@link RetryPolicy#defaults()})
     * @return this builder
     */
    public Builder retryPolicy(RetryPolicy policy) {
      this.retryPolicy = Objects.requireNonNull(policy, "retryPolicy");
      return this;
    }

    /**
     * @param allow if true, the endpoint may be plain {@code http://} on a non-loopback address; by
     *     default {@link #build()} refuses one, since the bearer token and data keys would cross the
     *     network unencrypted (see {@link io.binlogarchive.store.spi.Endpoints})
     * @return this builder
     */
    public Builder allowInsecureEndpoint(boolean allow) {
      this.allowInsecureEndpoint = allow;
      return this;
    }

    /** For tests: the source of data keys. */
    Builder random(SecureRandom random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * @return the provider
     * @throws IllegalArgumentException naming every missing or conflicting setting
     */
    public GcpKmsKeyProvider build() {
      SettingsProblems problems = new SettingsProblems()
          .unless(primary != null, "keyName is required")
          .unless(credentials != null, "credentials are required (e.g. GoogleCredentials.getApplicationDefault())")
          .add(Endpoints.transportProblem(endpoint, "Cloud KMS", allowInsecureEndpoint));
      Set<String> names = new LinkedHashSet<>();
      if (primary != null) {
        names.add(primary);
      }
      for (String n : unwrapOnly) {
        problems.unless(names.add(n), "key " + n + " is given more than once");
      }
      problems.throwIfAny(all -> new IllegalArgumentException("cannot build GcpKmsKeyProvider: " + all));
      Credentials c = credentials;
      if (c instanceof GoogleCredentials g && g.createScopedRequired()) {
        c = g.createScoped(List.of(SCOPE));
      }
      return new GcpKmsKeyProvider(this, Collections.unmodifiableSet(names), c);
    }

    private static String checkName(String name) {
      Objects.requireNonNull(name, "cryptoKeyName");
      if (!CRYPTO_KEY.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "not a Cloud KMS CryptoKey name (projects/P/locations/L/keyRings/R/cryptoKeys/K): '" + name + "'");
      }
      return name;
    }
  }
}
