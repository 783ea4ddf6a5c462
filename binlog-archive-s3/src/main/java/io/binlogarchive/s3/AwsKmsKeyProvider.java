package io.binlogarchive.s3;

import io.binlogarchive.codec.Transform;
import io.binlogarchive.store.spi.Endpoints;
import io.binlogarchive.ArchiveException;
import io.binlogarchive.crypto.DataKey;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.store.spi.SettingsProblems;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.StoreException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.model.DataKeySpec;
import software.amazon.awssdk.services.kms.model.DecryptResponse;
import software.amazon.awssdk.services.kms.model.DescribeKeyResponse;
import software.amazon.awssdk.services.kms.model.EncryptResponse;
import software.amazon.awssdk.services.kms.model.GenerateDataKeyResponse;

/**
 * A {@link KeyProvider} backed by AWS KMS: client-side envelope encryption in which KMS generates
 * and wraps every artifact's data key and the key-encryption key never leaves KMS.
 *
 * <ul>
 *   <li>{@link #newDataKey()}: {@code GenerateDataKey} ({@code AES_256}) under the configured key;
 *       the plaintext is used for one artifact, the {@code CiphertextBlob} is stored in its header.
 *   <li>{@link #unwrap(String, byte[])}: {@code Decrypt} of the stored blob, with the recorded key
 *       id as {@code KeyId} so KMS refuses a blob made under any other key.
 *   <li>{@link #wrap(byte[])}: {@code Encrypt} of existing key bytes (re-wrapping under a new key).
 * </ul>
 *
 * <p>Artifacts record the key ARN that KMS reports, not the alias that may have been configured, so
 * re-pointing an alias later does not strand older artifacts. An optional encryption context is
 * sent with every call; KMS binds it to the blob, so reading needs the same context.
 *
 * <p>The provider unwraps only under the keys it was given: the {@linkplain Builder#keyId primary}
 * and those added with {@link Builder#unwrapKeyId}. An artifact whose header names any other key
 * fails with {@link NotFoundException} before any request names that key, instead of having the
 * caller's identity decrypt with a key chosen by whoever wrote the artifact. A key given as a key
 * ARN is compared as it is; one given as an alias, alias ARN or bare key id is matched by the key
 * ARN KMS reports for it: from this provider's own {@code GenerateDataKey} and {@code Encrypt}
 * answers, or else from one {@code DescribeKey} of each such configured id (which then needs
 * {@code kms:DescribeKey}), made the first time an artifact names a key ARN not yet known.
 *
 * <p>The {@link KmsClient} is the caller's (credentials, region, endpoint, retries) and is not closed
 * here. Instances are thread-safe; their configuration is immutable. Key bytes never appear in
 * logs, messages or {@link #toString()}; plaintext copies this class receives are zeroed after use.
 * Needs {@code kms:GenerateDataKey} and {@code kms:Decrypt} on the key (and {@code kms:Encrypt} to
 * re-wrap, {@code kms:DescribeKey} to read with an alias).
 *
 * <pre>{@code
 * KeyProvider keys = AwsKmsKeyProvider.builder()
 *     .client(KmsClient.create())
 *     .keyId("arn:aws:kms:eu-west-1:111122223333:alias/binlog-archive")
 *     .encryptionContext(Map.of("app", "binlog-archive"))
 *     .build();
 * Transform encryption = Transform.aesGcm(keys);
 * }</pre>
 */
public final class AwsKmsKeyProvider implements KeyProvider {
  /** KMS error codes that mean the blob does not decrypt under the given key and context. */
  private static final Set<String> INTEGRITY_CODES = Set.of("InvalidCiphertextException", "IncorrectKeyException");

  /** KMS error codes worth another attempt. */
  private static final Set<String> RETRYABLE_CODES =
      Set.of("KMSInternalException", "DependencyTimeoutException", "ThrottlingException", "LimitExceededException");

  private static final Pattern KEY_ARN = Pattern.compile("arn:aws[a-z-]*:kms:[^:]*:[0-9]*:key/.+");

  private final KmsClient client;
  private final String keyId;
  private final Set<String> keyIds;
  private final Map<String, String> context;
  /** Key ARNs KMS reported for the configured ids (which may be aliases). */
  private final Set<String> reportedArns = ConcurrentHashMap.newKeySet();
  // guarded by this
  private boolean described;

  private AwsKmsKeyProvider(Builder b, Set<String> keyIds) {
    this.client = b.client;
    this.keyId = b.keyId;
    this.keyIds = keyIds;
    this.context = b.context;
  }

  /** @return a builder; {@link Builder#client(KmsClient)} and {@link Builder#keyId(String)} are required */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the key id, ARN or alias this provider was configured with */
  @Override
  public String primaryKeyId() {
    return keyId;
  }

  /** @return the keys this provider unwraps with, as configured: the primary first */
  public Set<String> keyIds() {
    return keyIds;
  }

  /** @return the encryption context sent with every call (empty for none) */
  public Map<String, String> encryptionContext() {
    return context;
  }

  /**
   * Asks KMS for a fresh AES-256 data key ({@code GenerateDataKey}).
   *
   * @return the plaintext key with its {@code CiphertextBlob}, under the key ARN KMS reports
   * @throws StoreException if KMS cannot be reached or refuses (retryable or not)
   * @throws NotFoundException if the key does not exist
   */
  @Override
  public DataKey newDataKey() {
    GenerateDataKeyResponse r =
        call(
            "generate a data key under",
            keyId,
            () ->
                client.generateDataKey(
                    q -> q.keyId(keyId).keySpec(DataKeySpec.AES_256).encryptionContext(nullIfEmpty())));
    DataKey k = dataKey("GenerateDataKey", r.keyId(), r.plaintext(), r.ciphertextBlob());
    reportedArns.add(k.keyId());
    return k;
  }

  /**
   * Encrypts existing key bytes under the configured key ({@code Encrypt}).
   *
   * @param plaintextKey 32 bytes; not retained
   * @return the data key with its new blob
   */
  @Override
  public DataKey wrap(byte[] plaintextKey) {
    Objects.requireNonNull(plaintextKey, "plaintextKey");
    if (plaintextKey.length != DataKey.LENGTH) {
      throw new IllegalArgumentException("a data key must be " + DataKey.LENGTH + " bytes, got " + plaintextKey.length);
    }
    byte[] copy = plaintextKey.clone();
    try {
      EncryptResponse r =
          call(
              "wrap a data key under",
              keyId,
              () ->
                  client.encrypt(
                      q -> q.keyId(keyId).plaintext(SdkBytes.fromByteArrayUnsafe(copy)).encryptionContext(nullIfEmpty())));
      String id = r.keyId() == null || r.keyId().isBlank() ? keyId : r.keyId();
      DataKey k = DataKey.of(id, plaintextKey, blob("Encrypt", id, r.ciphertextBlob()));
      reportedArns.add(id);
      return k;
    } finally {
      Arrays.fill(copy, (byte) 0);
    }
  }

  /**
   * Decrypts a stored blob ({@code Decrypt} with {@code KeyId} set to {@code keyId}), if {@code
   * keyId} is one of this provider's keys (see the class comment).
   *
   * @throws IntegrityException if KMS says the blob does not decrypt under that key and context
   * @throws NotFoundException if {@code keyId} is not one of this provider's keys (no request is
   *     made for it), or the key does not exist
   * @throws StoreException if KMS cannot be reached or refuses (retryable or not)
   */
  @Override
  public DataKey unwrap(String keyId, byte[] wrappedKey) {
    Objects.requireNonNull(keyId, "keyId");
    Objects.requireNonNull(wrappedKey, "wrappedKey");
    if (!isOwnKey(keyId)) {
      throw new NotFoundException(
          "cannot unwrap data key: key id '" + keyId + "' is not a KMS key this AwsKmsKeyProvider was given ("
              + keyIds + (reportedArns.isEmpty() ? "" : ", key ARNs " + new TreeSet<>(reportedArns))
              + "); an artifact that names another key is refused without asking KMS. If it is an older key of"
              + " yours, add it with unwrapKeyId");
    }
    DecryptResponse r =
        call(
            "unwrap a data key under",
            keyId,
            () ->
                client.decrypt(
                    q -> q.keyId(keyId).ciphertextBlob(SdkBytes.fromByteArray(wrappedKey)).encryptionContext(nullIfEmpty())));
    SdkBytes plaintext = r.plaintext();
    if (plaintext == null) {
      throw new IntegrityException("KMS Decrypt under key '" + keyId + "' returned no plaintext");
    }
    byte[] key = plaintext.asByteArrayUnsafe();
    try {
      if (key.length != DataKey.LENGTH) {
        throw new IntegrityException(
            "KMS Decrypt under key '" + keyId + "' returned " + key.length + " bytes, not a " + DataKey.LENGTH + "-byte data key");
      }
      return DataKey.of(keyId, key, wrappedKey);
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  /**
   * Whether {@code id} names one of the configured keys: literally, or as the key ARN KMS reported
   * for a configured alias or key id. Learns those ARNs with {@code DescribeKey} of the configured
   * ids (never of {@code id}), once.
   */
  private boolean isOwnKey(String id) {
    if (keyIds.contains(id) || reportedArns.contains(id)) {
      return true;
    }
    if (!KEY_ARN.matcher(id).matches()) {
      return false;
    }
    synchronized (this) {
      if (!described) {
        for (String configured : keyIds) {
          if (!KEY_ARN.matcher(configured).matches()) {
            DescribeKeyResponse r =
                call("look up the key ARN of", configured, () -> client.describeKey(q -> q.keyId(configured)));
            if (r.keyMetadata() != null && r.keyMetadata().arn() != null) {
              reportedArns.add(r.keyMetadata().arn());
            }
          }
        }
        described = true;
      }
    }
    return reportedArns.contains(id);
  }

  /** @return the key id and context keys, never key bytes */
  @Override
  public String toString() {
    return "AwsKmsKeyProvider[keyId=" + keyId + (keyIds.size() > 1 ? ", unwrapKeyIds=" + keyIds.stream().skip(1).toList() : "")
        + (context.isEmpty() ? "" : ", context=" + context.keySet()) + "]";
  }

  private Map<String, String> nullIfEmpty() {
    return context.isEmpty() ? null : context;
  }

  private static DataKey dataKey(String operation, String reportedId, SdkBytes plaintext, SdkBytes blob) {
    if (reportedId == null || reportedId.isBlank()) {
      throw new IntegrityException("KMS " + operation + " returned no key id");
    }
    byte[] wrapped = blob(operation, reportedId, blob);
    if (plaintext == null) {
      throw new IntegrityException("KMS " + operation + " under key '" + reportedId + "' returned no plaintext");
    }
    byte[] key = plaintext.asByteArrayUnsafe();
    try {
      if (key.length != DataKey.LENGTH) {
        throw new IntegrityException(
            "KMS " + operation + " under key '" + reportedId + "' returned " + key.length + " key bytes, expected " + DataKey.LENGTH);
      }
      return DataKey.of(reportedId, key, wrapped);
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  private static byte[] blob(String operation, String keyId, SdkBytes blob) {
    if (blob == null || blob.asByteArrayUnsafe().length == 0) {
      throw new IntegrityException("KMS " + operation + " under key '" + keyId + "' returned no CiphertextBlob");
    }
    return blob.asByteArray();
  }

  private static <T> T call(String what, String keyId, java.util.function.Supplier<T> call) {
    try {
      return call.get();
    } catch (SdkException e) {
      throw translate(e, "cannot " + what + " KMS key '" + keyId + "'");
    }
  }

  /** The one place where KMS errors become the library's error taxonomy. */
  static ArchiveException translate(SdkException e, String what) {
    if (e instanceof AwsServiceException ae) {
      int status = ae.statusCode();
      String code = ae.awsErrorDetails() == null || ae.awsErrorDetails().errorCode() == null ? "" : ae.awsErrorDetails().errorCode();
      String message = ae.awsErrorDetails() == null ? null : ae.awsErrorDetails().errorMessage();
      String detail = "HTTP " + status + (code.isEmpty() ? "" : " " + code) + (message == null || message.isBlank() ? "" : ": " + message)
          + (ae.requestId() == null ? "" : ", request id " + ae.requestId());
      if (code.equals("NotFoundException")) {
        return new NotFoundException(what + ": the key does not exist (" + detail + ")", e);
      }
      if (INTEGRITY_CODES.contains(code)) {
        return new IntegrityException(
            what + ": KMS refused the wrapped data key; it was made under another key or encryption context, or is corrupt ("
                + detail + ")",
            e);
      }
      if (status == 400 && code.equals("AccessDeniedException") || status == 403 || status == 401) {
        return new StoreException(
            what + ": access denied (" + detail + "); the key policy or IAM must allow kms:GenerateDataKey and kms:Decrypt",
            false,
            e);
      }
      boolean retryable = RETRYABLE_CODES.contains(code) || status >= 500 || status == 429;
      return new StoreException(what + ": " + detail, retryable, e);
    }
    if (e instanceof SdkClientException) {
      return new StoreException(what + ": " + e.getMessage(), true, e);
    }
    return new StoreException(what + ": " + e.getMessage(), e.retryable(), e);
  }

  /**
   * Builds an {@link AwsKmsKeyProvider}. Setters reject bad values at once; {@link #build()} reports
   * every missing setting in one error.
   */
  public static final class Builder {
    private KmsClient client;
    private String keyId;
    private final List<String> unwrapOnly = new ArrayList<>();
    private Map<String, String> context = Map.of();
    private boolean allowInsecureEndpoint;

    private Builder() {}

    /**
     * @param client the caller's KMS client; not closed by the provider
     * @return this builder
     */
    public Builder client(KmsClient client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /**
     * @param keyId the symmetric KMS key that wraps data keys: key id, key ARN, alias name ({@code
     *     alias/...}) or alias ARN
     * @return this builder
     */
    public Builder keyId(String keyId) {
      this.keyId = checkKeyId(keyId);
      return this;
    }

    /**
     * Adds a key this provider may unwrap with but never wraps under, e.g. the key used before
     * moving to a new primary. Artifacts record key ARNs: give the old key's ARN (or an alias that
     * still points to it).
     *
     * @param keyId key id, key ARN, alias name or alias ARN
     * @return this builder
     */
    public Builder unwrapKeyId(String keyId) {
      unwrapOnly.add(checkKeyId(keyId));
      return this;
    }

    private static String checkKeyId(String keyId) {
      Objects.requireNonNull(keyId, "keyId");
      if (keyId.isBlank() || keyId.chars().anyMatch(Character::isISOControl)) {
        throw new IllegalArgumentException("KMS key id must not be blank or hold control characters");
      }
      return keyId;
    }

    /**
     * @param context non-secret pairs sent with every KMS call and bound to each blob (logged by
     *     CloudTrail); reading needs the same pairs. Empty for none (the default).
     * @return this builder
     */
    public Builder encryptionContext(Map<String, String> context) {
      Objects.requireNonNull(context, "encryptionContext");
      context.forEach((k, v) -> {
        if (k == null || k.isEmpty() || v == null) {
          throw new IllegalArgumentException("encryption context keys must not be empty and values not null");
        }
      });
      this.context = java.util.Collections.unmodifiableMap(new TreeMap<>(context));
      return this;
    }

    /**
     * @param allow if true, the client may use a plain {@code http://} endpoint that is not a
     *     loopback address (e.g. from {@code AWS_ENDPOINT_URL_KMS}); by default {@link #build()}
     *     refuses one, since data keys would cross the network unencrypted (see {@link
     *     io.binlogarchive.store.spi.Endpoints})
     * @return this builder
     */
    public Builder allowInsecureEndpoint(boolean allow) {
      this.allowInsecureEndpoint = allow;
      return this;
    }

    /**
     * @return the provider
     * @throws IllegalStateException naming every missing setting, and a plain http endpoint of the
     *     client that is not a loopback address unless allowed
     */
    public AwsKmsKeyProvider build() {
      SettingsProblems problems = new SettingsProblems()
          .unless(client != null, "client is required")
          .unless(keyId != null, "keyId is required")
          .add(S3Sink.endpointProblem(client, "the KMS client", allowInsecureEndpoint).orElse(null));
      Set<String> ids = new LinkedHashSet<>();
      if (keyId != null) {
        ids.add(keyId);
      }
      for (String id : unwrapOnly) {
        problems.unless(ids.add(id), "key " + id + " is given more than once");
      }
      problems.throwIfAny(all -> new IllegalStateException("invalid AwsKmsKeyProvider configuration: " + all));
      return new AwsKmsKeyProvider(this, Collections.unmodifiableSet(ids));
    }
  }
}
