package io.binlogarchive.s3;

import io.binlogarchive.store.StoreLease;
import io.binlogarchive.ArchiveException;
import io.binlogarchive.store.spi.ConditionalCalls;
import io.binlogarchive.store.spi.Endpoints;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.store.spi.ObjectKeys;
import io.binlogarchive.store.spi.PreconditionFailedException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoredObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.StorageClass;

/**
 * A {@link Sink} in an Amazon S3 bucket, or in any store that speaks the S3 protocol well enough
 * (conditional writes with {@code If-None-Match}, {@code x-amz-checksum-sha256}).
 *
 * <p>Objects are written by a {@link SinkWriter} that streams bytes of unknown length: an artifact
 * no larger than the {@linkplain Builder#singlePutThreshold(int) single-PUT threshold} is sent as
 * one {@code PutObject}; a larger one as a multipart upload whose parts are uploaded on the
 * caller's {@link Executor}, at most {@linkplain Builder#maxPartsInFlight(int) N} at a time, so a
 * writer holds at most about {@code (N + 1) x partSize} bytes. Every part and every single PUT
 * carries its SHA-256 ({@code x-amz-checksum-sha256}), which the store checks on receipt. Commits
 * are conditional ({@code If-None-Match: *}), so an existing object is never overwritten; any
 * failure before a commit, and a {@code close()} without one, aborts the multipart upload, after
 * waiting at most {@linkplain Builder#abortWait(Duration) abortWait} for its parts in flight. An
 * abort that fails (the store is unreachable) is remembered and sent again before the sink's next
 * upload and by {@link #close()}, so an outage leaves no billed parts behind once the store is back;
 * only a process that ends first leaves them to a lifecycle rule (see the module README).
 *
 * <p>Every store call goes through the sink's {@link RetryPolicy}; configure the client's own
 * retries off ({@code RetryMode}/{@code retryStrategy} with one attempt) so the two do not
 * multiply. The sink never creates an SDK client or credentials, and never closes the client it
 * was given.
 *
 * <p>Conditional writes (for {@link io.binlogarchive.store.StoreLease}): an object's {@link
 * StoredObject#version() version} is its ETag without the surrounding quotes, in {@link
 * #stat(String)}, {@link #list(String)} and {@link SinkWriter#commit()}. {@link #replace(String,
 * String, byte[])} is a {@code PutObject} with {@code If-Match}; {@link #delete(String, String)} a
 * {@code HeadObject} (S3 answers a conditional delete of a missing object with 204 on some
 * buckets, so absence is established first) followed by a {@code DeleteObject} with {@code
 * If-Match}. A refused precondition (412, or 404) is a {@link PreconditionFailedException} and is
 * never retried; a 409 {@code ConditionalRequestConflict} is retried by the policy. S3 evaluates
 * both conditions atomically with the write; stores that merely speak the protocol may not (see
 * the module README).
 *
 * <p>Instances are immutable and thread-safe; each {@link SinkWriter} is used by one thread.
 *
 * <p>(For maintainers: the class is above 500 lines only because of its public {@link Builder},
 * about 230 lines of documented setters that must stay where embedders find them. The jobs live
 * apart: {@code S3SinkSettings} validates and holds the configuration, {@code S3MultipartCleanup}
 * removes what failed uploads leave, {@code S3ConditionalWrites} does replace and conditional
 * delete, {@code S3SinkWriter} uploads.)
 */
public final class S3Sink implements Sink {
  private static final Logger log = LoggerFactory.getLogger(S3Sink.class);
  /** How long an aborting writer waits for its parts in flight unless {@link Builder#abortWait} says otherwise. */
  static final Duration DEFAULT_ABORT_WAIT = Duration.ofMinutes(5);
  /** The smallest part size S3 accepts (for every part but the last). */
  public static final int MIN_PART_SIZE = 5 * 1024 * 1024;

  /** The default part size: 8 MiB. */
  public static final int DEFAULT_PART_SIZE = 8 * 1024 * 1024;

  /** The most parts one multipart upload may have. */
  static final int MAX_PARTS = 10_000;

  /** The user metadata key ({@code x-amz-meta-sha256}) that holds a single-PUT object's SHA-256. */
  static final String SHA256_METADATA = "sha256";

  final S3SinkSettings settings;
  /** The uploads this sink must not leave behind. */
  final S3MultipartCleanup cleanup;
  private final S3ConditionalWrites conditionalWrites;

  private S3Sink(S3SinkSettings settings) {
    this.settings = settings;
    this.cleanup = new S3MultipartCleanup(settings.client(), settings.bucket());
    this.conditionalWrites = new S3ConditionalWrites(this);
  }

  /** @return a builder; {@link Builder#client(S3Client)} and {@link Builder#bucket(String)} are required */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the bucket */
  public String bucket() {
    return settings.bucket();
  }

  /** @return the key prefix every object is stored under: empty, or ending with {@code /} */
  public String prefix() {
    return settings.prefix();
  }

  /**
   * Starts writing an object. Nothing is sent until the first part is full or {@link
   * SinkWriter#commit()} is called, except for multipart uploads whose abort failed earlier: each
   * is aborted again here, once (see the class description).
   *
   * @param key the object key below the sink's prefix
   * @param metadata user metadata: keys of lowercase letters, digits, {@code -}, {@code _} and
   *     {@code .}; printable ASCII values; at most 2 KiB in all; {@code sha256} is reserved
   * @return the writer
   * @throws IllegalArgumentException if the key or the metadata are not acceptable to S3
   */
  @Override
  public SinkWriter create(String key, Map<String, String> metadata) {
    String fullKey = fullKey(key);
    Map<String, String> checked = checkMetadata(key, metadata);
    cleanup.run();
    cleanup.writerStarted(fullKey);
    return new S3SinkWriter(this, key, fullKey, checked);
  }

  /** @return how many multipart uploads wait to be aborted again (for tests) */
  int unabortedUploads() {
    return cleanup.unabortedUploads();
  }

  /**
   * Tries once more to abort multipart uploads whose abort failed earlier (a warning names each
   * one that is still left, for a lifecycle rule to remove). The client stays open: it is the
   * caller's.
   */
  @Override
  public void close() {
    cleanup.close();
  }

  /**
   * Asks the store about an object ({@code HeadObject} with checksum mode enabled). The {@code
   * sha256} checksum (hex) is reported for objects uploaded in one PUT, {@code sha256-composite}
   * (S3's base64 {@code digest-N} form) for multipart objects when the store reports one.
   */
  @Override
  public Optional<StoredObject> stat(String key) throws IOException {
    String fullKey = fullKey(key);
    try {
      HeadObjectResponse h = head(fullKey, "stat");
      return Optional.of(describe(key, h));
    } catch (NotFoundException e) {
      return Optional.empty();
    }
  }

  HeadObjectResponse head(String fullKey, String operation) throws IOException {
    return settings.retryPolicy().call(
        operation + " s3://" + settings.bucket() + "/" + fullKey,
        () -> {
          try {
            return settings.client().headObject(r -> r.bucket(settings.bucket()).key(fullKey).checksumMode(ChecksumMode.ENABLED));
          } catch (SdkException e) {
            throw S3Errors.translate(e, operation, settings.bucket(), fullKey);
          }
        });
  }

  StoredObject describe(String key, HeadObjectResponse h) {
    Map<String, String> checksums = new TreeMap<>();
    Map<String, String> meta = new TreeMap<>(h.metadata() == null ? Map.of() : h.metadata());
    String recorded = meta.remove(SHA256_METADATA);
    meta.remove(ConditionalCalls.WRITE_ID);
    String reported = h.checksumSHA256();
    if (reported != null && !reported.isBlank()) {
      if (Sha256.isComposite(reported)) {
        checksums.put("sha256-composite", reported);
      } else {
        checksums.put("sha256", Sha256.hex(Base64.getDecoder().decode(reported)));
      }
    } else if (recorded != null) {
      // recorded by this sink at upload time, after the store had checked x-amz-checksum-sha256
      checksums.put("sha256", recorded);
    }
    long size = h.contentLength() == null ? -1 : h.contentLength();
    return new StoredObject(key, size, h.lastModified(), checksums, meta, version(h.eTag()));
  }

  /**
   * @param etag an ETag as S3 sends it (quoted) or as some stores do (bare)
   * @return the ETag without quotes, the form of {@link StoredObject#version()}; null if none
   */
  static String version(String etag) {
    String v = Sha256.unquote(etag);
    return v.isEmpty() ? null : v;
  }

  /**
   * Reads an object from {@code offset} with a ranged {@code GetObject}. The request is retried by
   * the sink's policy; a failure while the returned stream is read surfaces as an {@link
   * IOException} and is not retried (the caller may open again from where it stopped).
   */
  @Override
  public InputStream open(String key, long offset) throws IOException {
    if (offset < 0) {
      throw new IllegalArgumentException("offset must not be negative, got " + offset);
    }
    String fullKey = fullKey(key);
    ResponseInputStream<GetObjectResponse> in;
    try {
      in =
          settings.retryPolicy().call(
              "read s3://" + settings.bucket() + "/" + fullKey,
              () -> {
                try {
                  return settings.client().getObject(
                      r -> {
                        r.bucket(settings.bucket()).key(fullKey);
                        if (offset > 0) {
                          r.range("bytes=" + offset + "-");
                        }
                      });
                } catch (S3Exception e) {
                  if (e.statusCode() == 416) {
                    return null; // the offset is at or past the end of an existing object
                  }
                  throw S3Errors.translate(e, "read", settings.bucket(), fullKey);
                } catch (SdkException e) {
                  throw S3Errors.translate(e, "read", settings.bucket(), fullKey);
                }
              });
    } catch (NotFoundException e) {
      throw new NotFoundException("object " + key + " does not exist in " + describe(), e);
    }
    if (in == null) {
      return InputStream.nullInputStream();
    }
    return new S3ResponseStream(in, e -> S3Errors.forStream(e, settings.bucket(), fullKey));
  }

  /** Lists with {@code ListObjectsV2}, one retried call per page of {@link Builder#listPageSize(int)} keys. */
  @Override
  public List<StoredObject> list(String prefix) throws IOException {
    Objects.requireNonNull(prefix, "prefix");
    String fullPrefix = settings.prefix() + prefix;
    List<StoredObject> out = new ArrayList<>();
    String token = null;
    do {
      String t = token;
      ListObjectsV2Response page =
          settings.retryPolicy().call(
              "list s3://" + settings.bucket() + "/" + fullPrefix,
              () -> {
                try {
                  return settings.client().listObjectsV2(
                      r -> r.bucket(settings.bucket()).prefix(fullPrefix).maxKeys(settings.listPageSize()).continuationToken(t));
                } catch (SdkException e) {
                  throw S3Errors.translate(e, "list", settings.bucket(), fullPrefix.isEmpty() ? null : fullPrefix + "*");
                }
              });
      for (S3Object o : page.contents()) {
        String k = o.key();
        if (!k.startsWith(settings.prefix())) {
          continue; // a store that ignores the prefix; never expected from S3
        }
        out.add(new StoredObject(
            k.substring(settings.prefix().length()), o.size(), o.lastModified(), Map.of(), Map.of(), version(o.eTag())));
      }
      token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
    } while (token != null);
    // S3 sorts by UTF-8 bytes, Java by UTF-16 units; the SPI promises String order like every sink
    out.sort(Comparator.comparing(StoredObject::key));
    return out;
  }

  /** Deletes with {@code DeleteObject}; a missing object is not an error. */
  @Override
  public void delete(String key) throws IOException {
    String fullKey = fullKey(key);
    settings.retryPolicy().call(
        "delete s3://" + settings.bucket() + "/" + fullKey,
        () -> {
          try {
            settings.client().deleteObject(r -> r.bucket(settings.bucket()).key(fullKey));
            return null;
          } catch (SdkException e) {
            ArchiveException t = S3Errors.translate(e, "delete", settings.bucket(), fullKey);
            if (t instanceof NotFoundException) {
              return null;
            }
            throw t;
          }
        });
  }

  @Override
  public boolean supportsConditionalWrites() {
    return true;
  }

  /**
   * Puts {@code content} with {@code If-Match: "<expectedVersion>"} and {@code
   * x-amz-checksum-sha256}, with this sink's encryption and storage class, in one {@code PutObject}.
   * A refusal of a request the policy re-sent is decided by the object's write id ({@link
   * ConditionalCalls#ownWriteOrRefuse}).
   *
   * @return the new object; its {@code lastModified} is {@code null} unless it had to be asked for
   * @throws IllegalArgumentException if {@code expectedVersion} is blank
   */
  @Override
  public StoredObject replace(String key, String expectedVersion, byte[] content) throws IOException {
    return conditionalWrites.replace(key, fullKey(key), expectedVersion, content);
  }

  /**
   * Asks for the object first ({@code HeadObject}): a missing object or another ETag is refused at
   * once, since S3 answers a conditional delete of a missing key with 204 on some buckets. Then
   * {@code DeleteObject} with {@code If-Match}, which the store checks again. If the object is
   * deleted by someone else between the two requests, this call succeeds: the object is gone
   * either way.
   *
   * @throws IllegalArgumentException if {@code expectedVersion} is blank
   */
  @Override
  public void delete(String key, String expectedVersion) throws IOException {
    conditionalWrites.delete(fullKey(key), expectedVersion);
  }

  /**
   * @return part size x (parts in flight + 1): the parts being uploaded plus the one being filled
   */
  @Override
  public long bufferedBytesPerUpload() {
    return (long) settings.partSize() * (settings.maxPartsInFlight() + 1);
  }

  /** @return {@code s3://bucket/prefix} */
  @Override
  public String describe() {
    return "s3://" + settings.bucket() + "/" + settings.prefix();
  }

  @Override
  public String toString() {
    return "S3Sink[" + settings + "]";
  }

  String fullKey(String key) {
    String full = ObjectKeys.join(settings.prefix(), key);
    if (full.getBytes(StandardCharsets.UTF_8).length > 1024) {
      throw new IllegalArgumentException("object key '" + full + "' is longer than S3's 1024 bytes");
    }
    return full;
  }

  /** The {@link Endpoints} rule for an SDK client's endpoint override (explicit or from the environment). */
  static Optional<String> endpointProblem(SdkClient client, String what, boolean allowInsecure) {
    return client == null ? Optional.empty() : Optional.ofNullable(Endpoints.transportProblem(
        client.serviceClientConfiguration().endpointOverride().orElse(null), what, allowInsecure));
  }

  static Map<String, String> checkMetadata(String key, Map<String, String> metadata) {
    Map<String, String> out = new LinkedHashMap<>();
    if (metadata == null) {
      return out;
    }
    int total = 0;
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      String k = e.getKey();
      String v = e.getValue();
      if (k == null || k.isEmpty() || !k.chars().allMatch(c -> c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.')) {
        throw new IllegalArgumentException(
            "metadata key '" + k + "' for " + key + " must be lowercase letters, digits, '-', '_' or '.'");
      }
      if (k.equals(SHA256_METADATA)) {
        throw new IllegalArgumentException("metadata key '" + SHA256_METADATA + "' is reserved by S3Sink (for " + key + ")");
      }
      if (v == null || !v.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
        throw new IllegalArgumentException("metadata value of '" + k + "' for " + key + " must be printable ASCII");
      }
      total += k.length() + v.length();
      out.put(k, v);
    }
    // S3 allows 2 KiB of user metadata; keep room for the sha256 entry this sink adds
    if (total > 2048 - 80) {
      throw new IllegalArgumentException("metadata for " + key + " is " + total + " bytes; S3 allows about 2 KiB");
    }
    return out;
  }

  /**
   * Builds an {@link S3Sink}. Setters reject bad values at once; {@link #build()} reports every
   * missing or conflicting setting in one error.
   */
  public static final class Builder {
    S3Client client;
    String bucket;
    String prefix = "";
    Executor executor = Runnable::run;
    int partSize = DEFAULT_PART_SIZE;
    int maxPartsInFlight = 4;
    int singlePutThreshold = -1;
    boolean sseS3;
    boolean sseKms;
    String kmsKeyId;
    Map<String, String> kmsContext;
    StorageClass storageClass;
    boolean requireEncryption;
    RetryPolicy retryPolicy = RetryPolicy.defaults();
    int listPageSize = 1000;
    Duration abortWait = DEFAULT_ABORT_WAIT;
    boolean allowInsecureEndpoint;

    private Builder() {}

    /**
     * @param client the caller's synchronous S3 client (credentials, region, endpoint and HTTP
     *     client are the caller's); configure its own retries to one attempt. Not closed by the sink.
     * @return this builder
     */
    public Builder client(S3Client client) {
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /**
     * @param bucket the bucket name
     * @return this builder
     */
    public Builder bucket(String bucket) {
      this.bucket = ObjectKeys.bucket(bucket, "s3");
      return this;
    }

    /**
     * @param prefix a key prefix for every object, e.g. {@code "prod/binlogs"}; a trailing {@code /}
     *     is added, leading ones are removed; empty for none
     * @return this builder
     */
    public Builder prefix(String prefix) {
      this.prefix = ObjectKeys.prefix(prefix);
      return this;
    }

    /**
     * @param executor runs part uploads in parallel; the caller owns it (its size and lifetime).
     *     Without one, parts are uploaded on the writing thread, one at a time.
     * @return this builder
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * @param bytes the size of each multipart part (the last may be smaller): at least {@link
     *     #MIN_PART_SIZE 5 MiB}, at most 1 GiB; default 8 MiB. The largest object is 10,000 parts.
     * @return this builder
     */
    public Builder partSize(int bytes) {
      if (bytes < MIN_PART_SIZE || bytes > 1 << 30) {
        throw new IllegalArgumentException("partSize must be between 5 MiB and 1 GiB, got " + bytes);
      }
      this.partSize = bytes;
      return this;
    }

    /**
     * @param n how many parts of one writer may be uploading at once, at least 1, default 4; a
     *     writer that has {@code n} parts in flight blocks until one finishes
     * @return this builder
     */
    public Builder maxPartsInFlight(int n) {
      if (n < 1 || n > 1000) {
        throw new IllegalArgumentException("maxPartsInFlight must be between 1 and 1000, got " + n);
      }
      this.maxPartsInFlight = n;
      return this;
    }

    /**
     * @param bytes objects of at most this many bytes are sent in one {@code PutObject}; must not
     *     exceed the part size; default: the part size
     * @return this builder
     */
    public Builder singlePutThreshold(int bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("singlePutThreshold must not be negative, got " + bytes);
      }
      this.singlePutThreshold = bytes;
      return this;
    }

    /**
     * Encrypts objects with S3-managed keys (SSE-S3, {@code AES256}).
     *
     * @return this builder
     */
    public Builder sseS3() {
      this.sseS3 = true;
      return this;
    }

    /**
     * Encrypts objects with an AWS KMS key (SSE-KMS).
     *
     * @param keyId the key id, ARN or alias
     * @return this builder
     */
    public Builder sseKms(String keyId) {
      return sseKms(keyId, Map.of());
    }

    /**
     * Encrypts objects with an AWS KMS key (SSE-KMS) and an encryption context, which KMS binds to
     * the data key and logs in CloudTrail.
     *
     * @param keyId the key id, ARN or alias
     * @param encryptionContext pairs of non-secret strings; may be empty
     * @return this builder
     */
    public Builder sseKms(String keyId, Map<String, String> encryptionContext) {
      Objects.requireNonNull(keyId, "keyId");
      if (keyId.isBlank()) {
        throw new IllegalArgumentException("KMS key id must not be blank");
      }
      this.sseKms = true;
      this.kmsKeyId = keyId;
      this.kmsContext = new HashMap<>(Objects.requireNonNull(encryptionContext, "encryptionContext"));
      return this;
    }

    /**
     * @param storageClass the storage class of new objects, e.g. {@link StorageClass#STANDARD_IA};
     *     default: the bucket's
     * @return this builder
     */
    public Builder storageClass(StorageClass storageClass) {
      Objects.requireNonNull(storageClass, "storageClass");
      if (storageClass == StorageClass.UNKNOWN_TO_SDK_VERSION) {
        throw new IllegalArgumentException("unknown storage class");
      }
      this.storageClass = storageClass;
      return this;
    }

    /**
     * @param require if true, {@link #build()} refuses a configuration without SSE-S3 or SSE-KMS
     * @return this builder
     */
    public Builder requireEncryption(boolean require) {
      this.requireEncryption = require;
      return this;
    }

    /**
     * @param policy how each store call is retried; default {@link RetryPolicy#defaults()}
     * @return this builder
     */
    public Builder retryPolicy(RetryPolicy policy) {
      this.retryPolicy = Objects.requireNonNull(policy, "retryPolicy");
      return this;
    }

    /**
     * @param keys how many keys each {@code ListObjectsV2} page asks for, 1 to 1000 (the default)
     * @return this builder
     */
    public Builder listPageSize(int keys) {
      if (keys < 1 || keys > 1000) {
        throw new IllegalArgumentException("listPageSize must be between 1 and 1000, got " + keys);
      }
      this.listPageSize = keys;
      return this;
    }

    /**
     * @param wait how long an aborting writer waits for its part uploads still on the wire before it
     *     aborts the multipart upload anyway (default 5 minutes); zero aborts at once. A writer that
     *     gives up logs a warning naming the object and the upload id, and the sink aborts that
     *     upload again before its next upload, in case a part lands after the abort
     * @return this builder
     */
    public Builder abortWait(Duration wait) {
      Objects.requireNonNull(wait, "abortWait");
      if (wait.isNegative()) {
        throw new IllegalArgumentException("abortWait must not be negative, got " + wait);
      }
      this.abortWait = wait;
      return this;
    }

    /**
     * @param allow if true, the client may use a plain {@code http://} endpoint that is not a
     *     loopback address; by default {@link #build()} refuses one, since request signatures and
     *     data would cross the network unencrypted (see {@link io.binlogarchive.store.spi.Endpoints})
     * @return this builder
     */
    public Builder allowInsecureEndpoint(boolean allow) {
      this.allowInsecureEndpoint = allow;
      return this;
    }

    /**
     * @return the sink
     * @throws IllegalStateException naming every missing or conflicting setting, and a plain http
     *     endpoint of the client that is not a loopback address unless allowed
     */
    public S3Sink build() {
      return new S3Sink(S3SinkSettings.of(this));
    }
  }

}
