package io.binlogarchive.s3;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.StoreException;
import io.binlogarchive.store.StoredObject;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CompleteMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.PutObjectResponse;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * Writes one object of {@link S3Sink}: buffers up to one part, then either sends a single
 * conditional {@code PutObject} at commit, or runs a multipart upload whose parts go to the sink's
 * executor with at most {@code maxPartsInFlight} in flight. Used by one thread; part callbacks run
 * on the executor and touch only the thread-safe fields.
 *
 * <p>Why one class of about 600 lines: it is one state machine (open, uploading, committed,
 * aborted) whose two commit paths share the buffer, the failure slot and the abort ordering (wait
 * for parts in flight, then abort, then remember what could not be aborted). Split apart, each half
 * would need the other's state; the sink's clean-up of what an abort leaves is already its own
 * class ({@link S3MultipartCleanup}).
 */
final class S3SinkWriter extends SinkWriter {
  private static final Logger LOG = LoggerFactory.getLogger(S3SinkWriter.class);
  private static final int INITIAL_BUFFER = 64 * 1024;

  private enum State {
    OPEN,
    COMMITTED,
    ABORTED,
    FAILED
  }

  private final S3Sink sink;
  private final String key;
  private final String fullKey;
  private final Map<String, String> metadata;
  private final String where;

  private volatile State state = State.OPEN;
  private boolean released;
  private byte[] buffer;
  private int buffered;
  private long size;

  // multipart state
  private String uploadId;
  private int nextPart = 1;
  private final List<CompletableFuture<Part>> parts = new ArrayList<>();
  private final Semaphore inFlight;
  private final ArrayDeque<byte[]> freeBuffers = new ArrayDeque<>();
  private final AtomicReference<Throwable> partFailure = new AtomicReference<>();

  /** What one uploaded part leaves behind for the completion. */
  record Part(int number, String etag, byte[] sha256) {}

  S3SinkWriter(S3Sink sink, String key, String fullKey, Map<String, String> metadata) {
    this.sink = sink;
    this.key = key;
    this.fullKey = fullKey;
    this.metadata = metadata;
    this.where = "s3://" + sink.settings.bucket() + "/" + fullKey;
    this.inFlight = new Semaphore(sink.settings.maxPartsInFlight());
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    ensureOpen();
    while (len > 0) {
      if (buffer == null) {
        buffer = takeBuffer();
      }
      if (buffered == buffer.length) {
        if (buffer.length < sink.settings.partSize()) {
          // small artifacts (sidecars) never hold a whole part's memory
          buffer = java.util.Arrays.copyOf(buffer, (int) Math.min(sink.settings.partSize(), 2L * buffer.length));
        } else {
          // the buffer is a full part and more bytes follow: it is not the last part
          try {
            sendPart();
          } catch (RuntimeException e) {
            throw asIOException(e);
          }
          continue;
        }
      }
      int n = Math.min(len, buffer.length - buffered);
      System.arraycopy(b, off, buffer, buffered, n);
      buffered += n;
      size += n;
      off += n;
      len -= n;
    }
  }

  private void ensureOpen() throws IOException {
    switch (state) {
      case OPEN -> {
        Throwable f = partFailure.get();
        if (f != null) {
          throw asIOException(fail(f));
        }
      }
      case COMMITTED -> throw new IOException("write to " + where + " after commit");
      case ABORTED -> throw new IOException("write to " + where + " after abort");
      case FAILED -> throw new IOException("write to " + where + " after the upload failed and was aborted");
    }
  }

  /** Aborts the upload and returns {@code t}, for the caller to throw. */
  private Throwable fail(Throwable t) {
    abortUpload(State.FAILED);
    return t;
  }

  /** On the stream path ({@code write}) every failure is an {@link IOException}. */
  private IOException asIOException(Throwable t) {
    if (t instanceof IOException io) {
      return io;
    }
    if (t instanceof Error err) {
      throw err;
    }
    return new IOException("cannot upload " + where + ": " + t.getMessage(), t);
  }

  /**
   * Aborts the upload and throws {@code t} as it is; declared to return so callers can write
   * {@code throw rethrowFailure(t)} and the compiler sees the branch end.
   */
  private IOException rethrowFailure(Throwable t) throws IOException {
    rethrow(fail(t));
    return new IOException(t);
  }

  /** On {@code commit} the store's own error types are thrown as they are. */
  private static void rethrow(Throwable t) throws IOException {
    if (t instanceof RuntimeException re) {
      throw re;
    }
    if (t instanceof Error err) {
      throw err;
    }
    throw t instanceof IOException io ? io : new IOException(t.getMessage(), t);
  }

  private byte[] takeBuffer() {
    byte[] b;
    synchronized (freeBuffers) {
      b = freeBuffers.poll();
    }
    if (b != null) {
      return b;
    }
    return new byte[uploadId == null ? Math.min(sink.settings.partSize(), INITIAL_BUFFER) : sink.settings.partSize()];
  }

  private void returnBuffer(byte[] b) {
    synchronized (freeBuffers) {
      if (state == State.OPEN && b.length == sink.settings.partSize()) {
        freeBuffers.push(b);
      }
    }
  }

  /** Hands the buffered bytes to the executor as the next part; blocks while N parts are in flight. */
  private void sendPart() throws IOException {
    if (uploadId == null) {
      startMultipart();
    }
    if (nextPart > S3Sink.MAX_PARTS) {
      throw rethrowFailure((new StoreException("cannot upload " + where + ": more than " + S3Sink.MAX_PARTS
          + " parts of " + sink.settings.partSize() + " bytes; configure a larger partSize", false, null)));
    }
    try {
      inFlight.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw rethrowFailure((new InterruptedIOException("interrupted while uploading " + where)));
    }
    Throwable earlier = partFailure.get();
    if (earlier != null) {
      inFlight.release();
      throw rethrowFailure((earlier));
    }
    int number = nextPart++;
    byte[] data = buffer;
    int length = buffered;
    String id = uploadId;
    buffer = null;
    buffered = 0;
    CompletableFuture<Part> f;
    try {
      f = CompletableFuture.supplyAsync(() -> uploadPart(id, number, data, length), sink.settings.executor());
    } catch (RejectedExecutionException e) {
      inFlight.release();
      throw rethrowFailure((new StoreException(
          "cannot upload part " + number + " of " + where + ": the executor rejected it", false, e)));
    }
    f.whenComplete(
        (p, t) -> {
          returnBuffer(data);
          if (t != null) {
            partFailure.compareAndSet(null, unwrap(t));
          }
          inFlight.release();
        });
    parts.add(f);
  }

  private void startMultipart() throws IOException {
    CreateMultipartUploadRequest.Builder r =
        CreateMultipartUploadRequest.builder()
            .bucket(sink.settings.bucket())
            .key(fullKey)
            .checksumAlgorithm(ChecksumAlgorithm.SHA256)
            .contentType("application/octet-stream")
            .metadata(metadata);
    if (sink.settings.sse() != null) {
      r.serverSideEncryption(sink.settings.sse()).ssekmsKeyId(sink.settings.kmsKeyId()).ssekmsEncryptionContext(sink.settings.kmsEncryptionContext());
    }
    if (sink.settings.storageClass() != null) {
      r.storageClass(sink.settings.storageClass());
    }
    CreateMultipartUploadRequest request = r.build();
    try {
      CreateMultipartUploadResponse resp =
          sink.settings.retryPolicy().call(
              "start multipart upload " + where,
              () -> {
                try {
                  return sink.settings.client().createMultipartUpload(request);
                } catch (SdkException e) {
                  if (!(e instanceof software.amazon.awssdk.awscore.exception.AwsServiceException)) {
                    sink.cleanup.suspectOrphan(fullKey); // no answer: the store may have started an upload anyway
                  }
                  throw S3Errors.translate(e, "start multipart upload", sink.settings.bucket(), fullKey);
                }
              });
      uploadId = resp.uploadId();
    } catch (IOException | RuntimeException e) {
      throw rethrowFailure((e));
    }
  }

  /** Runs on the executor: hashes the part, uploads it with its SHA-256, checks the echo. */
  private Part uploadPart(String id, int number, byte[] data, int length) {
    byte[] digest = Sha256.of(data, 0, length);
    String b64 = Sha256.base64(digest);
    String what = "upload part " + number + " of";
    try {
      UploadPartResponse resp =
          sink.settings.retryPolicy().call(
              what + " " + where,
              () -> {
                if (state != State.OPEN) {
                  // the writer gave up: do not start another attempt
                  throw new StoreException(what + " " + where + ": cancelled, the upload is being aborted", false, null);
                }
                try {
                  return sink.settings.client().uploadPart(
                      r -> r.bucket(sink.settings.bucket()).key(fullKey).uploadId(id).partNumber(number)
                          .contentLength((long) length)
                          .checksumSHA256(b64),
                      RequestBody.fromContentProvider(
                          () -> new ByteArrayInputStream(data, 0, length), length, "application/octet-stream"));
                } catch (SdkException e) {
                  throw S3Errors.translate(e, what, sink.settings.bucket(), fullKey);
                }
              });
      if (resp.checksumSHA256() != null && !Sha256.sameChecksum(resp.checksumSHA256(), b64)) {
        throw new IntegrityException("part " + number + " of " + where + ": the store reports SHA-256 "
            + resp.checksumSHA256() + ", we sent " + b64);
      }
      return new Part(number, resp.eTag(), digest);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public StoredObject commit() throws IOException {
    switch (state) {
      case COMMITTED -> throw new IllegalStateException(where + " is already committed");
      case ABORTED -> throw new IllegalStateException(where + " was aborted");
      case FAILED -> throw new IllegalStateException(where + " failed and was aborted");
      case OPEN -> {}
    }
    Throwable f = partFailure.get();
    if (f != null) {
      rethrow(fail(f));
    }
    StoredObject result;
    try {
      if (uploadId == null && size <= sink.settings.singlePutThreshold()) {
        result = putSingle();
      } else {
        result = completeMultipart();
      }
    } catch (IOException | RuntimeException | Error e) {
      if (state == State.OPEN) {
        abortUpload(State.FAILED);
      }
      release();
      throw e;
    }
    state = State.COMMITTED;
    buffer = null;
    synchronized (freeBuffers) {
      freeBuffers.clear();
    }
    release();
    sink.cleanup.run(); // the store just took a commit: a good moment for aborts an outage left
    return result;
  }

  private StoredObject putSingle() throws IOException {
    byte[] data = buffer == null ? new byte[0] : buffer;
    int length = buffered;
    byte[] digest = Sha256.of(data, 0, length);
    String b64 = Sha256.base64(digest);
    String hex = Sha256.hex(digest);
    Map<String, String> meta = new HashMap<>(metadata);
    meta.put(S3Sink.SHA256_METADATA, hex);
    PutObjectRequest.Builder r =
        PutObjectRequest.builder()
            .bucket(sink.settings.bucket())
            .key(fullKey)
            .ifNoneMatch("*")
            .contentLength((long) length)
            .contentType("application/octet-stream")
            .checksumSHA256(b64)
            .metadata(meta);
    if (sink.settings.sse() != null) {
      r.serverSideEncryption(sink.settings.sse()).ssekmsKeyId(sink.settings.kmsKeyId()).ssekmsEncryptionContext(sink.settings.kmsEncryptionContext());
    }
    if (sink.settings.storageClass() != null) {
      r.storageClass(sink.settings.storageClass());
    }
    PutObjectRequest request = r.build();
    AtomicInteger attempts = new AtomicInteger();
    PutObjectResponse resp =
        sink.settings.retryPolicy().call(
            "put " + where,
            () -> {
              int attempt = attempts.incrementAndGet();
              try {
                return sink.settings.client().putObject(
                    request,
                    RequestBody.fromContentProvider(
                        () -> new ByteArrayInputStream(data, 0, length), length, "application/octet-stream"));
              } catch (SdkException e) {
                ArchiveException t = S3Errors.translate(e, "put", sink.settings.bucket(), fullKey);
                if (t instanceof ObjectExistsException && attempt > 1 && isOurSinglePut(hex, length)) {
                  // an earlier attempt whose response was lost had already stored these bytes
                  return null;
                }
                throw t;
              }
            });
    if (resp != null && resp.checksumSHA256() != null && !Sha256.sameChecksum(resp.checksumSHA256(), b64)) {
      throw published("the store reports SHA-256 " + resp.checksumSHA256() + " for the PUT, we sent " + b64);
    }
    HeadObjectResponse h = sink.head(fullKey, "verify");
    if (h.contentLength() == null || h.contentLength() != length) {
      throw published("the store holds " + h.contentLength() + " bytes, we wrote " + length);
    }
    if (h.checksumSHA256() != null && !Sha256.sameChecksum(h.checksumSHA256(), b64)) {
      throw published("the store reports SHA-256 " + h.checksumSHA256() + ", we wrote " + b64);
    }
    String recorded = h.metadata() == null ? null : h.metadata().get(S3Sink.SHA256_METADATA);
    if (recorded != null && !recorded.equals(hex)) {
      throw published("the object's sha256 metadata is " + recorded + ", we wrote " + hex);
    }
    Map<String, String> userMeta = new TreeMap<>(h.metadata() == null ? Map.of() : h.metadata());
    userMeta.remove(S3Sink.SHA256_METADATA);
    return new StoredObject(key, length, h.lastModified(), Map.of("sha256", hex), userMeta, S3Sink.version(h.eTag()));
  }

  /** After an ambiguous failure: is the object now under the key the one we were putting? */
  private boolean isOurSinglePut(String hex, long length) {
    try {
      HeadObjectResponse h = sink.head(fullKey, "check");
      return h.contentLength() != null && h.contentLength() == length && h.metadata() != null
          && hex.equals(h.metadata().get(S3Sink.SHA256_METADATA));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private StoredObject completeMultipart() throws IOException {
    if (uploadId == null) {
      startMultipart();
    }
    sendPart(); // the last part: always at least one byte, since parts are sent only when more follow
    List<Part> done = new ArrayList<>(parts.size());
    for (CompletableFuture<Part> f : parts) {
      try {
        done.add(f.get());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while uploading " + where);
      } catch (ExecutionException e) {
        rethrow(unwrap(e));
      }
    }
    List<byte[]> digests = new ArrayList<>();
    List<CompletedPart> completed = new ArrayList<>();
    List<String> etags = new ArrayList<>();
    for (Part p : done) {
      digests.add(p.sha256());
      etags.add(p.etag());
      completed.add(
          CompletedPart.builder().partNumber(p.number()).eTag(p.etag()).checksumSHA256(Sha256.base64(p.sha256())).build());
    }
    String composite = Sha256.composite(digests);
    String expectedEtag = Sha256.multipartEtag(etags);
    AtomicInteger attempts = new AtomicInteger();
    CompleteMultipartUploadResponse resp =
        sink.settings.retryPolicy().call(
            "complete multipart upload " + where,
            () -> {
              int attempt = attempts.incrementAndGet();
              try {
                return sink.settings.client().completeMultipartUpload(
                    r -> r.bucket(sink.settings.bucket()).key(fullKey).uploadId(uploadId).ifNoneMatch("*")
                        .multipartUpload(m -> m.parts(completed)));
              } catch (SdkException e) {
                ArchiveException t = S3Errors.translate(e, "complete multipart upload", sink.settings.bucket(), fullKey);
                boolean lostResponse = t instanceof ObjectExistsException
                    || t instanceof StoreException se && !se.isRetryable() && S3Errors.isNoSuchUpload(e);
                if (attempt > 1 && lostResponse && isOurMultipart(composite, expectedEtag)) {
                  // an earlier attempt whose response was lost had already completed the upload
                  return null;
                }
                throw t;
              }
            });
    // the upload is now an object: nothing is left to abort
    uploadId = null;
    state = State.COMMITTED;
    boolean proven = false;
    if (resp != null && resp.checksumSHA256() != null) {
      if (!Sha256.sameChecksum(resp.checksumSHA256(), composite)) {
        throw published("the store reports composite SHA-256 " + resp.checksumSHA256() + ", we computed " + composite);
      }
      proven = true;
    }
    HeadObjectResponse h = sink.head(fullKey, "verify");
    if (h.contentLength() == null || h.contentLength() != size) {
      throw published("the store holds " + h.contentLength() + " bytes, we wrote " + size);
    }
    if (h.checksumSHA256() != null) {
      if (!Sha256.sameChecksum(h.checksumSHA256(), composite)) {
        throw published("the store reports composite SHA-256 " + h.checksumSHA256() + ", we computed " + composite);
      }
      proven = true;
    }
    Map<String, String> userMeta = new TreeMap<>(h.metadata() == null ? Map.of() : h.metadata());
    userMeta.remove(S3Sink.SHA256_METADATA);
    Map<String, String> checksums = proven ? Map.of("sha256-composite", composite) : Map.of();
    return new StoredObject(key, size, h.lastModified(), checksums, userMeta, S3Sink.version(h.eTag()));
  }

  /** After an ambiguous failure: is the object now under the key the one our parts make up? */
  private boolean isOurMultipart(String composite, String expectedEtag) {
    try {
      HeadObjectResponse h = sink.head(fullKey, "check");
      if (h.contentLength() == null || h.contentLength() != size) {
        return false;
      }
      if (h.checksumSHA256() != null) {
        return Sha256.sameChecksum(h.checksumSHA256(), composite);
      }
      return expectedEtag != null && expectedEtag.equals(Sha256.unquote(h.eTag()));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /**
   * The store published an object that does not match what was written: remove it (it is ours:
   * the conditional write created it) and report the mismatch.
   */
  private IntegrityException published(String why) {
    String msg = "committed " + where + " but " + why;
    try {
      sink.delete(key);
      msg += "; the object was deleted";
    } catch (IOException | RuntimeException e) {
      msg += "; deleting it failed too (" + e.getMessage() + ")";
    }
    state = State.FAILED;
    return new IntegrityException(msg);
  }

  @Override
  public void abort() {
    if (state != State.OPEN) {
      return;
    }
    abortUpload(State.ABORTED);
  }

  /** Tells the sink this writer no longer writes its key (once). */
  private void release() {
    if (!released) {
      released = true;
      sink.cleanup.writerDone(fullKey);
    }
  }

  /**
   * Waits (at most the sink's {@code abortWait}) for parts in flight, then aborts the multipart
   * upload (if one was started). Never throws.
   */
  private void abortUpload(State next) {
    state = next;
    buffer = null;
    synchronized (freeBuffers) {
      freeBuffers.clear();
    }
    String id = uploadId;
    uploadId = null;
    if (id == null) {
      release();
      return;
    }
    // Parts still uploading could otherwise land after the abort and keep storage alive. They
    // start no new attempt now that the state is no longer OPEN, so the wait is for attempts
    // already on the wire, and only up to the sink's abortWait: a part that hangs (a stuck
    // connection, an executor that never runs it) must not hang the writer's caller. An
    // interrupted caller skips the wait but still gets the abort call (with the flag cleared, so
    // the SDK sends it).
    boolean interrupted = Thread.interrupted();
    long deadline = System.nanoTime() + sink.settings.abortWait().toNanos();
    for (CompletableFuture<Part> f : parts) {
      if (interrupted) {
        break;
      }
      try {
        f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        interrupted = true;
      } catch (ExecutionException e) {
        // already recorded; the upload is being aborted anyway
      } catch (TimeoutException e) {
        // counted below
      }
    }
    long unfinished = parts.stream().filter(f -> !f.isDone()).count();
    if (unfinished > 0) {
      LOG.warn("{} waiting for {} part upload(s) of {} (multipart upload {}) to end; aborting the upload now, and"
          + " again before the sink's next upload in case a part lands after the abort",
          interrupted ? "interrupted while" : "gave up after " + sink.settings.abortWait().toMillis() + " ms", unfinished, where,
          id);
    }
    try {
      sink.settings.retryPolicy().call(
          "abort multipart upload " + where,
          () -> {
            sink.cleanup.abortMultipart(fullKey, id);
            return null;
          });
      if (unfinished > 0) {
        sink.cleanup.abortAgain(fullKey, id);
      }
    } catch (IOException | RuntimeException e) {
      // e.g. the store is unreachable: the sink aborts it again before its next upload
      sink.cleanup.abortLater(fullKey, id, e);
    } finally {
      release();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  protected boolean isCommitted() {
    return state == State.COMMITTED;
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof ExecutionException || t instanceof java.util.concurrent.CompletionException
            || t instanceof java.io.UncheckedIOException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
