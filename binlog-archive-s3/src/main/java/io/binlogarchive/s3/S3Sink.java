package io.binlogarchive.s3;

import io.binlogarchive.store.StoreLease;
import io.binlogarchive.ArchiveException;
import io.binlogarchive.store.spi.ConditionalCalls;
import io.binlogarchive.store.spi.Endpoints;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.store.spi.ObjectKeys;
import io.binlogarchive.store.spi.PreconditionFailedException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.StoreException;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.store.spi.TranslatingInputStream;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.SdkClient;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ChecksumMode;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
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
 */
public final class S3Sink implements Sink {
  private static final Logger log = LoggerFactory.getLogger(S3Sink.class);
  /** How long an aborting writer waits for its parts in flight unless {@link Builder#abortWait} says otherwise. */
  static final Duration DEFAULT_ABORT_WAIT = Duration.ofMinutes(5);
  /** At most this many failed aborts are remembered; beyond it they are left to a lifecycle rule. */
  static final int MAX_UNABORTED = 1000;
  /** The smallest part size S3 accepts (for every part but the last). */
  public static final int MIN_PART_SIZE = 5 * 1024 * 1024;

  /** The default part size: 8 MiB. */
  public static final int DEFAULT_PART_SIZE = 8 * 1024 * 1024;

  /** The most parts one multipart upload may have. */
  static final int MAX_PARTS = 10_000;

  /** The user metadata key ({@code x-amz-meta-sha256}) that holds a single-PUT object's SHA-256. */
  static final String SHA256_METADATA = "sha256";

  final S3Client client;
  final String bucket;
  final String prefix;
  final Executor executor;
  final int partSize;
  final int maxPartsInFlight;
  final int singlePutThreshold;
  final ServerSideEncryption sse;
  final String kmsKeyId;
  final String kmsEncryptionContext;
  final StorageClass storageClass;
  final RetryPolicy retryPolicy;
  final int listPageSize;
  final Duration abortWait;
  /** Multipart uploads whose abort failed: {fullKey, uploadId}. */
  private final ConcurrentLinkedQueue<String[]> unaborted = new ConcurrentLinkedQueue<>();
  private final AtomicInteger unabortedCount = new AtomicInteger();
  /** Keys whose CreateMultipartUpload went unanswered: the store may hold an upload we never heard of. */
  private final Set<String> suspectKeys = ConcurrentHashMap.newKeySet();
  /** Keys a writer of this sink is writing now, with how many writers. */
  private final ConcurrentHashMap<String, Integer> activeKeys = new ConcurrentHashMap<>();

  private S3Sink(Builder b) {
    this.client = b.client;
    this.bucket = b.bucket;
    this.prefix = b.prefix;
    this.executor = b.executor;
    this.partSize = b.partSize;
    this.maxPartsInFlight = b.maxPartsInFlight;
    this.singlePutThreshold = b.singlePutThreshold < 0 ? b.partSize : b.singlePutThreshold;
    this.sse = b.sseKms ? ServerSideEncryption.AWS_KMS : b.sseS3 ? ServerSideEncryption.AES256 : null;
    this.kmsKeyId = b.kmsKeyId;
    this.kmsEncryptionContext = b.kmsContext == null || b.kmsContext.isEmpty() ? null : encodeContext(b.kmsContext);
    this.storageClass = b.storageClass;
    this.retryPolicy = b.retryPolicy;
    this.listPageSize = b.listPageSize;
    this.abortWait = b.abortWait;
  }

  /** @return a builder; {@link Builder#client(S3Client)} and {@link Builder#bucket(String)} are required */
  public static Builder builder() {
    return new Builder();
  }

  /** @return the bucket */
  public String bucket() {
    return bucket;
  }

  /** @return the key prefix every object is stored under: empty, or ending with {@code /} */
  public String prefix() {
    return prefix;
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
    abortUnaborted();
    abortOrphans();
    activeKeys.merge(fullKey, 1, Integer::sum);
    return new S3SinkWriter(this, key, fullKey, checked);
  }

  /** A writer of {@code fullKey} has committed or given up. */
  void writerDone(String fullKey) {
    activeKeys.computeIfPresent(fullKey, (k, n) -> n == 1 ? null : n - 1);
  }

  /**
   * A CreateMultipartUpload of {@code fullKey} failed without an answer from the store (a dropped
   * connection, a timeout): the store may have created an upload whose id never reached us.
   */
  void suspectOrphan(String fullKey) {
    suspectKeys.add(fullKey);
  }

  /**
   * For each key whose CreateMultipartUpload went unanswered and that no writer of this sink is
   * writing now, lists the key's multipart uploads and aborts them: none can be a live upload of
   * this sink, and an upload started by a lost request would otherwise stay until a lifecycle rule
   * removes it. (A second archiver writing the same keys at the same moment, which the store lease
   * exists to prevent, would see its upload fail and be retried.) Never throws: a key whose listing
   * or abort fails is tried again later.
   */
  void abortOrphans() {
    for (String key : suspectKeys) {
      if (activeKeys.containsKey(key)) {
        continue;
      }
      try {
        ListMultipartUploadsResponse r = client.listMultipartUploads(b -> b.bucket(bucket).prefix(key));
        for (MultipartUpload u : r.uploads()) {
          if (key.equals(u.key())) {
            abortMultipart(key, u.uploadId());
            log.info("aborted multipart upload {} of s3://{}/{}: the answer to its CreateMultipartUpload was lost",
                u.uploadId(), bucket, key);
          }
        }
        suspectKeys.remove(key);
      } catch (IOException | SdkException | ArchiveException e) {
        return; // the store is unreachable again: the next upload or commit tries again
      }
    }
  }

  /**
   * Sends one {@code AbortMultipartUpload}; an upload that is already gone counts as aborted.
   *
   * @throws IOException (an {@link ArchiveException}) if the store refuses or cannot be reached
   */
  void abortMultipart(String fullKey, String uploadId) throws IOException {
    try {
      client.abortMultipartUpload(r -> r.bucket(bucket).key(fullKey).uploadId(uploadId));
    } catch (SdkException e) {
      ArchiveException t = S3Errors.translate(e, "abort multipart upload", bucket, fullKey);
      if (t instanceof NotFoundException || S3Errors.isNoSuchUpload(e)) {
        return; // already gone
      }
      throw t;
    }
  }

  /** Remembers an upload whose abort failed, to abort it again before the next upload. */
  void abortLater(String fullKey, String uploadId, Exception why) {
    if (!remember(fullKey, uploadId)) {
      log.warn("could not abort multipart upload {} of s3://{}/{}, and {} others wait for an abort already; a lifecycle"
          + " rule for incomplete uploads will remove it: {}", uploadId, bucket, fullKey, MAX_UNABORTED, why.getMessage());
      return;
    }
    log.warn("could not abort multipart upload {} of s3://{}/{}; it is aborted again before the next upload: {}",
        uploadId, bucket, fullKey, why.getMessage());
  }

  /**
   * Remembers an upload that was aborted while some of its parts were still on their way, to abort
   * it again before the next upload: a part that lands after an abort may keep storage alive.
   */
  void abortAgain(String fullKey, String uploadId) {
    if (!remember(fullKey, uploadId)) {
      log.warn("multipart upload {} of s3://{}/{} was aborted with parts still on their way, and {} others wait for an"
          + " abort already; a lifecycle rule for incomplete uploads will remove what is left", uploadId, bucket,
          fullKey, MAX_UNABORTED);
    }
  }

  /** @return false if {@link #MAX_UNABORTED} uploads are remembered already (nothing is added) */
  private boolean remember(String fullKey, String uploadId) {
    if (unabortedCount.incrementAndGet() > MAX_UNABORTED) {
      unabortedCount.decrementAndGet();
      return false;
    }
    unaborted.add(new String[] {fullKey, uploadId});
    return true;
  }

  /**
   * Tries each remembered abort once; keeps those that fail again. Never throws. Called before
   * each upload and after each commit: right after an outage the first call may meet a pooled
   * connection the restarted store has dropped, and the commit that follows proves the store is
   * back, so the last file of a run still retries what is left.
   */
  void abortUnaborted() {
    for (int n = unabortedCount.get(); n > 0; n--) {
      String[] u = unaborted.poll();
      if (u == null) {
        return;
      }
      try {
        abortMultipart(u[0], u[1]);
        unabortedCount.decrementAndGet();
        log.info("aborted multipart upload {} of s3://{}/{}, left behind by an earlier failure", u[1], bucket, u[0]);
      } catch (IOException | RuntimeException e) {
        unaborted.add(u);
        return; // the store is still unreachable: the next upload tries again
      }
    }
  }

  /** @return how many multipart uploads wait to be aborted again (for tests) */
  int unabortedUploads() {
    return unabortedCount.get();
  }

  /**
   * Tries once more to abort multipart uploads whose abort failed earlier (a warning names each
   * one that is still left, for a lifecycle rule to remove). The client stays open: it is the
   * caller's.
   */
  @Override
  public void close() {
    abortUnaborted();
    abortOrphans();
    for (String key : suspectKeys) {
      log.warn("s3://{}/{} may hold a multipart upload whose CreateMultipartUpload answer was lost; a lifecycle rule"
          + " for incomplete uploads will remove it", bucket, key);
    }
    for (String[] u : unaborted) {
      log.warn("multipart upload {} of s3://{}/{} could not be aborted; a lifecycle rule for incomplete uploads will"
          + " remove it", u[1], bucket, u[0]);
    }
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
    return retryPolicy.call(
        operation + " s3://" + bucket + "/" + fullKey,
        () -> {
          try {
            return client.headObject(r -> r.bucket(bucket).key(fullKey).checksumMode(ChecksumMode.ENABLED));
          } catch (SdkException e) {
            throw S3Errors.translate(e, operation, bucket, fullKey);
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
          retryPolicy.call(
              "read s3://" + bucket + "/" + fullKey,
              () -> {
                try {
                  return client.getObject(
                      r -> {
                        r.bucket(bucket).key(fullKey);
                        if (offset > 0) {
                          r.range("bytes=" + offset + "-");
                        }
                      });
                } catch (S3Exception e) {
                  if (e.statusCode() == 416) {
                    return null; // the offset is at or past the end of an existing object
                  }
                  throw S3Errors.translate(e, "read", bucket, fullKey);
                } catch (SdkException e) {
                  throw S3Errors.translate(e, "read", bucket, fullKey);
                }
              });
    } catch (NotFoundException e) {
      throw new NotFoundException("object " + key + " does not exist in " + describe(), e);
    }
    if (in == null) {
      return InputStream.nullInputStream();
    }
    return new TranslatingResponseStream(in, bucket, fullKey);
  }

  /** Lists with {@code ListObjectsV2}, one retried call per page of {@link Builder#listPageSize(int)} keys. */
  @Override
  public List<StoredObject> list(String prefix) throws IOException {
    Objects.requireNonNull(prefix, "prefix");
    String fullPrefix = this.prefix + prefix;
    List<StoredObject> out = new ArrayList<>();
    String token = null;
    do {
      String t = token;
      ListObjectsV2Response page =
          retryPolicy.call(
              "list s3://" + bucket + "/" + fullPrefix,
              () -> {
                try {
                  return client.listObjectsV2(
                      r -> r.bucket(bucket).prefix(fullPrefix).maxKeys(listPageSize).continuationToken(t));
                } catch (SdkException e) {
                  throw S3Errors.translate(e, "list", bucket, fullPrefix.isEmpty() ? null : fullPrefix + "*");
                }
              });
      for (S3Object o : page.contents()) {
        String k = o.key();
        if (!k.startsWith(this.prefix)) {
          continue; // a store that ignores the prefix; never expected from S3
        }
        out.add(new StoredObject(
            k.substring(this.prefix.length()), o.size(), o.lastModified(), Map.of(), Map.of(), version(o.eTag())));
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
    retryPolicy.call(
        "delete s3://" + bucket + "/" + fullKey,
        () -> {
          try {
            client.deleteObject(r -> r.bucket(bucket).key(fullKey));
            return null;
          } catch (SdkException e) {
            ArchiveException t = S3Errors.translate(e, "delete", bucket, fullKey);
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
    Objects.requireNonNull(content, "content");
    String fullKey = fullKey(key);
    String expected = expectedEtag(fullKey, expectedVersion);
    byte[] digest = Sha256.of(content, 0, content.length);
    String b64 = Sha256.base64(digest);
    String hex = Sha256.hex(digest);
    String writeId = ConditionalCalls.newWriteId();
    PutObjectRequest.Builder r =
        PutObjectRequest.builder()
            .bucket(bucket)
            .key(fullKey)
            .ifMatch(quoted(expected))
            .contentLength((long) content.length)
            .contentType("application/octet-stream")
            .checksumSHA256(b64)
            .metadata(Map.of(SHA256_METADATA, hex, ConditionalCalls.WRITE_ID, writeId));
    if (sse != null) {
      r.serverSideEncryption(sse).ssekmsKeyId(kmsKeyId).ssekmsEncryptionContext(kmsEncryptionContext);
    }
    if (storageClass != null) {
      r.storageClass(storageClass);
    }
    PutObjectRequest request = r.build();
    PutObjectResponse resp;
    try {
      resp = conditional("replace", fullKey, expected, () -> client.putObject(request, RequestBody.fromBytes(content)));
    } catch (PreconditionFailedException refused) {
      // our own earlier attempt may have landed, its answer lost
      HeadObjectResponse h =
          ConditionalCalls.ownWriteOrRefuse(refused, writeId, () -> head(fullKey, "check"), HeadObjectResponse::metadata);
      return new StoredObject(key, content.length, h.lastModified(), Map.of("sha256", hex), Map.of(), version(h.eTag()));
    }
    if (resp.checksumSHA256() != null && !Sha256.sameChecksum(resp.checksumSHA256(), b64)) {
      throw new IntegrityException("replaced s3://" + bucket + "/" + fullKey + " but the store reports SHA-256 "
          + resp.checksumSHA256() + ", we sent " + b64);
    }
    String v = version(resp.eTag());
    if (v == null) {
      throw new StoreException("replaced s3://" + bucket + "/" + fullKey + " but the store returned no ETag", false, null);
    }
    return new StoredObject(key, content.length, null, Map.of("sha256", hex), Map.of(), v);
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
    String fullKey = fullKey(key);
    String expected = expectedEtag(fullKey, expectedVersion);
    HeadObjectResponse h;
    try {
      h = head(fullKey, "delete");
    } catch (NotFoundException e) {
      throw S3Errors.gone("delete", bucket, fullKey, expected);
    }
    String found = version(h.eTag());
    if (!expected.equals(found)) {
      throw S3Errors.moved("delete", bucket, fullKey, expected, found);
    }
    conditional("delete", fullKey, expected,
        () -> client.deleteObject(d -> d.bucket(bucket).key(fullKey).ifMatch(quoted(expected))));
  }

  /**
   * @return part size x (parts in flight + 1): the parts being uploaded plus the one being filled
   */
  @Override
  public long bufferedBytesPerUpload() {
    return (long) partSize * (maxPartsInFlight + 1);
  }

  private String expectedEtag(String fullKey, String expectedVersion) {
    Objects.requireNonNull(expectedVersion, "expectedVersion");
    String v = Sha256.unquote(expectedVersion);
    if (v.isBlank()) {
      throw new IllegalArgumentException("expected version of s3://" + bucket + "/" + fullKey
          + " must be an ETag as stat() reports it, got '" + expectedVersion + "'");
    }
    return v;
  }

  private static String quoted(String etag) {
    return "\"" + etag + "\"";
  }

  /**
   * Runs one conditional call under the retry policy. A refused precondition ends it at once,
   * whatever the policy's predicate says: re-sending a refused conditional write cannot help.
   */
  private <T> T conditional(String operation, String fullKey, String expected, RetryPolicy.IoCall<T> call)
      throws IOException {
    return ConditionalCalls.retryUnlessRefused(
        retryPolicy,
        operation + " s3://" + bucket + "/" + fullKey,
        () -> {
          try {
            return call.call();
          } catch (SdkException e) {
            throw S3Errors.translateConditional(e, operation, bucket, fullKey, expected);
          }
        });
  }

  /** @return {@code s3://bucket/prefix} */
  @Override
  public String describe() {
    return "s3://" + bucket + "/" + prefix;
  }

  @Override
  public String toString() {
    return "S3Sink[" + describe() + ", partSize=" + partSize + ", inFlight=" + maxPartsInFlight
        + ", sse=" + (sse == null ? "none" : sse) + "]";
  }

  String fullKey(String key) {
    String full = ObjectKeys.join(prefix, key);
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

  static String encodeContext(Map<String, String> context) {
    StringBuilder b = new StringBuilder("{");
    for (Map.Entry<String, String> e : new TreeMap<>(context).entrySet()) {
      if (b.length() > 1) {
        b.append(',');
      }
      jsonString(b, e.getKey());
      b.append(':');
      jsonString(b, e.getValue());
    }
    b.append('}');
    return Base64.getEncoder().encodeToString(b.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static void jsonString(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }

  /** Turns the SDK's unchecked errors while a response is read into stream-path errors. */
  private static final class TranslatingResponseStream extends TranslatingInputStream {
    private final String bucket;
    private final String key;

    TranslatingResponseStream(InputStream in, String bucket, String key) {
      super(in);
      this.bucket = bucket;
      this.key = key;
    }

    @Override
    protected IOException translate(Exception e) {
      if (e instanceof SdkException sdk) {
        return S3Errors.forStream(sdk, bucket, key);
      }
      if (e instanceof IOException io) {
        return io;
      }
      throw (RuntimeException) e;
    }

    @Override
    public void close() throws IOException {
      // abort rather than drain: closing a partly read response must not download the rest
      if (in instanceof ResponseInputStream<?> r) {
        r.abort();
      }
      super.close();
    }
  }

  /**
   * Builds an {@link S3Sink}. Setters reject bad values at once; {@link #build()} reports every
   * missing or conflicting setting in one error.
   */
  public static final class Builder {
    private S3Client client;
    private String bucket;
    private String prefix = "";
    private Executor executor = Runnable::run;
    private int partSize = DEFAULT_PART_SIZE;
    private int maxPartsInFlight = 4;
    private int singlePutThreshold = -1;
    private boolean sseS3;
    private boolean sseKms;
    private String kmsKeyId;
    private Map<String, String> kmsContext;
    private StorageClass storageClass;
    private boolean requireEncryption;
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private int listPageSize = 1000;
    private Duration abortWait = DEFAULT_ABORT_WAIT;
    private boolean allowInsecureEndpoint;

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
      List<String> problems = new ArrayList<>();
      if (client == null) {
        problems.add("client is required");
      }
      if (bucket == null) {
        problems.add("bucket is required");
      }
      if (sseS3 && sseKms) {
        problems.add("both SSE-S3 and SSE-KMS are set; choose one");
      }
      if (requireEncryption && !sseS3 && !sseKms) {
        problems.add("requireEncryption is set but neither SSE-S3 nor SSE-KMS is configured");
      }
      if (singlePutThreshold > partSize) {
        problems.add("singlePutThreshold " + singlePutThreshold + " exceeds partSize " + partSize);
      }
      endpointProblem(client, "the S3 client", allowInsecureEndpoint).ifPresent(problems::add);
      if (!problems.isEmpty()) {
        throw new IllegalStateException("invalid S3Sink configuration: " + String.join("; ", problems));
      }
      return new S3Sink(this);
    }
  }

}
