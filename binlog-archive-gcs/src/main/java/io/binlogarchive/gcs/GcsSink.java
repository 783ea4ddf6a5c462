package io.binlogarchive.gcs;

import io.binlogarchive.store.StoreLease;
import com.google.api.gax.paging.Page;
import com.google.cloud.ReadChannel;
import com.google.cloud.WriteChannel;
import com.google.cloud.storage.Blob;
import com.google.cloud.storage.BlobId;
import com.google.cloud.storage.BlobInfo;
import com.google.cloud.storage.Storage;
import com.google.cloud.storage.Storage.BlobGetOption;
import com.google.cloud.storage.Storage.BlobListOption;
import com.google.cloud.storage.Storage.BlobSourceOption;
import com.google.cloud.storage.Storage.BlobWriteOption;
import com.google.cloud.storage.StorageClass;
import io.binlogarchive.store.spi.ConditionalCalls;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.store.spi.ObjectKeys;
import io.binlogarchive.store.spi.PreconditionFailedException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.gcs.GcsErrors.Op;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A {@link Sink} in a Google Cloud Storage bucket, through the caller's google-cloud-storage
 * {@link Storage} client (this class never creates credentials or clients).
 *
 * <p>Each object is streamed through a resumable upload session with a bounded chunk size: the
 * client keeps at most one chunk in memory and sends each full chunk as a non-final request. Only
 * {@link SinkWriter#commit()} sends the final request that makes the object exist; an aborted or
 * abandoned writer never finalises its session, so nothing appears under the object's name (GCS
 * discards unfinished sessions after a week). Every object is created with {@code
 * ifGenerationMatch=0}, so an existing object is never overwritten: whether GCS refuses the
 * session when it is created or the upload when it is finalised, the writer's commit throws {@link
 * io.binlogarchive.ObjectExistsException}.
 *
 * <p>Proof: the writer computes CRC32C and MD5 of every byte while streaming. The client sends
 * the CRC32C with the final request so GCS itself refuses a corrupted upload, and after
 * finalisation the sink compares size, CRC32C and MD5 with what GCS reports for the object; a
 * mismatch deletes that generation and raises {@link io.binlogarchive.IntegrityException}.
 *
 * <p>Retries: single calls (session start, stat, list pages, delete, opening a read) go through
 * the {@link RetryPolicy}. Resuming an interrupted chunk is the client's own resumable logic,
 * governed by the {@code Storage} client's retry settings; if the client gives up, the writer
 * fails with a retryable error and the caller restarts the whole upload from its source (the
 * archive pipeline re-reads the local binlog). Configure the client with few attempts (or one)
 * so that its retries and the policy's do not multiply; see the module README.
 *
 * <p>Conditional writes (for {@link io.binlogarchive.store.StoreLease}): an object's {@link
 * StoredObject#version() version} is its generation, as a decimal string, in {@link #stat(String)},
 * {@link #list(String)} and {@link SinkWriter#commit()}. {@link #replace(String, String, byte[])}
 * is a single-request upload with {@code ifGenerationMatch}, and {@link #delete(String, String)} a
 * delete of that generation with {@code ifGenerationMatch}; GCS answers 412 (or, for the delete,
 * 404) when the object moved on, which is a {@link PreconditionFailedException} and never retried.
 */
public final class GcsSink implements Sink {
  /** The chunk granularity GCS requires for non-final resumable requests: 256 KiB. */
  public static final int CHUNK_UNIT = 256 * 1024;

  /** The smallest chunk size: 256 KiB. */
  public static final int MIN_CHUNK_SIZE = CHUNK_UNIT;

  /** The largest chunk size: 64 MiB (the memory one writer holds). */
  public static final int MAX_CHUNK_SIZE = 64 * 1024 * 1024;

  /** The default chunk size: 8 MiB. */
  public static final int DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;

  private final GcsSinkSettings settings;
  private final GcsConditionalWrites conditionalWrites;

  private GcsSink(GcsSinkSettings settings) {
    this.settings = settings;
    this.conditionalWrites = new GcsConditionalWrites(this, settings);
  }

  /** @return a new builder */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public SinkWriter create(String key, Map<String, String> metadata) throws IOException {
    String name = objectName(key);
    BlobInfo.Builder info =
        BlobInfo.newBuilder(BlobId.of(settings.bucket(), name))
            .setContentType("application/octet-stream")
            .setMetadata(metadata == null || metadata.isEmpty() ? null : Map.copyOf(metadata));
    if (settings.storageClass() != null) {
      info.setStorageClass(settings.storageClass());
    }
    List<BlobWriteOption> options = new ArrayList<>();
    options.add(BlobWriteOption.doesNotExist());
    if (settings.kmsKeyName() != null) {
      options.add(BlobWriteOption.kmsKeyName(settings.kmsKeyName()));
    }
    if (settings.customerKeyBase64() != null) {
      options.add(BlobWriteOption.encryptionKey(settings.customerKeyBase64()));
    }
    BlobInfo blobInfo = info.build();
    BlobWriteOption[] opts = options.toArray(BlobWriteOption[]::new);
    WriteChannel channel;
    try {
      channel = call(Op.CREATE, name, () -> settings.storage().writer(blobInfo, opts));
    } catch (ObjectExistsException e) {
      // 412 when the session is created: the object exists. As on every sink, that surfaces at
      // commit, so the caller can stream its bytes, then find and adopt (or refuse) the object.
      return GcsSinkWriter.existing(this, key, name, e);
    }
    channel.setChunkSize(settings.chunkSize());
    return new GcsSinkWriter(this, key, name, channel);
  }

  @Override
  public Optional<StoredObject> stat(String key) throws IOException {
    String name = objectName(key);
    return Optional.ofNullable(getBlob(name)).map(this::toStoredObject);
  }

  Blob getBlob(String name) throws IOException {
    BlobGetOption[] opts =
        settings.customerKeyBase64() == null
            ? new BlobGetOption[0]
            : new BlobGetOption[] {BlobGetOption.decryptionKey(settings.customerKeyBase64())};
    return call(Op.STAT, name, () -> settings.storage().get(BlobId.of(settings.bucket(), name), opts));
  }

  @Override
  public InputStream open(String key, long offset) throws IOException {
    if (offset < 0) {
      throw new IllegalArgumentException("offset must not be negative, got " + offset);
    }
    String name = objectName(key);
    Blob blob = getBlob(name);
    if (blob == null) {
      throw new NotFoundException("cannot open gs://" + settings.bucket() + "/" + name + ": no such object");
    }
    // pin the generation so that every chunk of the read comes from the same object
    BlobId pinned = BlobId.of(settings.bucket(), name, blob.getGeneration());
    BlobSourceOption[] opts =
        settings.customerKeyBase64() == null
            ? new BlobSourceOption[0]
            : new BlobSourceOption[] {BlobSourceOption.decryptionKey(settings.customerKeyBase64())};
    ReadChannel channel = settings.storage().reader(pinned, opts);
    channel.setChunkSize(settings.chunkSize());
    if (offset > 0) {
      channel.seek(offset);
    }
    return new GcsInputStream(Channels.newInputStream(channel), settings.bucket(), name);
  }

  @Override
  public List<StoredObject> list(String keyPrefix) throws IOException {
    String full = settings.prefix() + Objects.requireNonNull(keyPrefix, "prefix");
    List<StoredObject> out = new ArrayList<>();
    String token = null;
    do {
      List<BlobListOption> opts = new ArrayList<>(List.of(BlobListOption.prefix(full), BlobListOption.pageSize(settings.pageSize())));
      if (token != null) {
        opts.add(BlobListOption.pageToken(token));
      }
      BlobListOption[] array = opts.toArray(BlobListOption[]::new);
      Page<Blob> page = call(Op.LIST, full, () -> settings.storage().list(settings.bucket(), array));
      for (Blob b : page.getValues()) {
        if (b.getName().startsWith(settings.prefix()) && !b.getName().endsWith("/")) {
          out.add(toStoredObject(b));
        }
      }
      token = page.hasNextPage() ? page.getNextPageToken() : null;
    } while (token != null && !token.isEmpty());
    out.sort(Comparator.comparing(StoredObject::key));
    return out;
  }

  @Override
  public void delete(String key) throws IOException {
    String name = objectName(key);
    call(Op.DELETE, name, () -> settings.storage().delete(BlobId.of(settings.bucket(), name)));
  }

  @Override
  public boolean supportsConditionalWrites() {
    return true;
  }

  /**
   * Uploads {@code content} in one request with {@code ifGenerationMatch=<expectedVersion>}, with
   * this sink's storage class and encryption settings, and checks the size and CRC32C GCS reports
   * for the new generation. A refusal of a re-sent request is decided by the object's write id
   * ({@link ConditionalCalls#ownWriteOrRefuse}), whether the client or the policy re-sent it.
   *
   * @throws IllegalArgumentException if {@code expectedVersion} is not a generation (a positive
   *     decimal number)
   */
  @Override
  public StoredObject replace(String key, String expectedVersion, byte[] content) throws IOException {
    return conditionalWrites.replace(objectName(key), expectedVersion, content);
  }

  /**
   * Deletes generation {@code expectedVersion} with {@code ifGenerationMatch}. A delete whose answer
   * was lost and which was re-sent reports {@link PreconditionFailedException} although the object
   * is gone: GCS cannot tell who deleted it.
   *
   * @throws IllegalArgumentException if {@code expectedVersion} is not a generation (a positive
   *     decimal number)
   */
  @Override
  public void delete(String key, String expectedVersion) throws IOException {
    conditionalWrites.delete(objectName(key), expectedVersion);
  }

  /** @return the chunk size: each upload in progress holds one chunk in the client's buffer */
  @Override
  public long bufferedBytesPerUpload() {
    return settings.chunkSize();
  }

  /** Deletes exactly one generation; used to remove an object that failed its proof. */
  void deleteGeneration(String name, long generation) throws IOException {
    call(
        Op.DELETE,
        name,
        () -> settings.storage().delete(BlobId.of(settings.bucket(), name), BlobSourceOption.generationMatch(generation)));
  }

  @Override
  public String describe() {
    return "gs://" + settings.bucket() + "/" + settings.prefix();
  }

  @Override
  public String toString() {
    return settings.toString();
  }

  String bucket() {
    return settings.bucket();
  }

  RetryPolicy retryPolicy() {
    return settings.retry();
  }

  String objectName(String key) {
    return ObjectKeys.join(settings.prefix(), key);
  }

  StoredObject toStoredObject(Blob b) {
    Map<String, String> sums = new HashMap<>();
    if (b.getCrc32c() != null) {
      sums.put("crc32c", b.getCrc32cToHexString());
    }
    if (b.getMd5() != null) {
      sums.put("md5", b.getMd5ToHexString());
    }
    Instant modified = b.getUpdateTimeOffsetDateTime() == null ? null : b.getUpdateTimeOffsetDateTime().toInstant();
    String key = b.getName().substring(settings.prefix().length());
    Map<String, String> metadata = b.getMetadata();
    if (metadata != null && metadata.containsKey(ConditionalCalls.WRITE_ID)) {
      metadata = new HashMap<>(metadata);
      metadata.remove(ConditionalCalls.WRITE_ID);
    }
    String version = b.getGeneration() == null ? null : Long.toString(b.getGeneration());
    return new StoredObject(key, b.getSize() == null ? 0 : b.getSize(), modified, sums, metadata, version);
  }

  /** A client call that throws the client's unchecked errors. */
  @FunctionalInterface
  interface GcsCall<T> {
    T call() throws IOException;
  }

  /** Runs one client call under the retry policy, translating its errors in {@link GcsErrors}. */
  <T> T call(Op op, String name, GcsCall<T> call) throws IOException {
    return settings.retry().call(what(op, name), () -> translated(op, name, call));
  }

  private String what(Op op, String name) {
    return op.verb + " gs://" + settings.bucket() + "/" + name;
  }

  /** Runs one client call once, translating its errors in {@link GcsErrors}. */
  private <T> T translated(Op op, String name, GcsCall<T> call) {
    try {
      return call.call();
    } catch (IOException | RuntimeException e) {
      throw GcsErrors.translate(op, settings.bucket(), name, e);
    }
  }

  /**
   * Like {@link #call(Op, String, GcsCall)}, but a refused precondition ends the call at once,
   * whatever the policy's retry predicate says: re-sending a refused conditional write cannot help.
   */
  <T> T conditionalCall(Op op, String name, GcsCall<T> call) throws IOException {
    return ConditionalCalls.retryUnlessRefused(settings.retry(), what(op, name), () -> translated(op, name, call));
  }

  /** Builds a validated, immutable {@link GcsSink}. */
  public static final class Builder {
    Storage storage;
    String bucket;
    String prefix = "";
    int chunkSize = DEFAULT_CHUNK_SIZE;
    int pageSize = 1000;
    String kmsKeyName;
    StorageClass storageClass;
    byte[] customerKey;
    RetryPolicy retry = RetryPolicy.defaults();
    boolean allowInsecureEndpoint;

    private Builder() {}

    /**
     * @param storage the caller's client; it stays the caller's to close. Its retry settings govern
     *     resuming interrupted chunks (see the class comment).
     * @return this builder
     */
    public Builder storage(Storage storage) {
      this.storage = Objects.requireNonNull(storage, "storage");
      return this;
    }

    /**
     * @param bucket the bucket name (not a {@code gs://} URL)
     * @return this builder
     */
    public Builder bucket(String bucket) {
      this.bucket = ObjectKeys.bucket(bucket, "gs");
      return this;
    }

    /**
     * @param prefix the object name prefix under which keys are stored; a trailing {@code /} is
     *     added if missing, leading ones are removed; {@code ""} for the bucket root
     * @return this builder
     * @throws IllegalArgumentException if the prefix has an empty path segment ({@code a//b})
     */
    public Builder prefix(String prefix) {
      this.prefix = ObjectKeys.prefix(prefix);
      return this;
    }

    /**
     * @param bytes the resumable upload chunk size: a multiple of 256 KiB between {@value
     *     #MIN_CHUNK_SIZE} and {@value #MAX_CHUNK_SIZE} bytes; each writer holds one chunk in memory
     * @return this builder
     */
    public Builder chunkSize(int bytes) {
      if (bytes < MIN_CHUNK_SIZE || bytes > MAX_CHUNK_SIZE || bytes % CHUNK_UNIT != 0) {
        throw new IllegalArgumentException("chunkSize must be a multiple of 256 KiB between 256 KiB and 64 MiB, got " + bytes);
      }
      this.chunkSize = bytes;
      return this;
    }

    /**
     * @param n objects asked for per listing request, 1 to 1000 (default 1000)
     * @return this builder
     */
    public Builder pageSize(int n) {
      if (n < 1 || n > 1000) {
        throw new IllegalArgumentException("pageSize must be between 1 and 1000, got " + n);
      }
      this.pageSize = n;
      return this;
    }

    /**
     * @param name a Cloud KMS key ({@code projects/P/locations/L/keyRings/R/cryptoKeys/K}) that
     *     encrypts every object (CMEK); the GCS service agent needs {@code
     *     roles/cloudkms.cryptoKeyEncrypterDecrypter} on it
     * @return this builder
     */
    public Builder kmsKeyName(String name) {
      Objects.requireNonNull(name, "kmsKeyName");
      if (!name.matches("projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+")) {
        throw new IllegalArgumentException("kmsKeyName must look like projects/P/locations/L/keyRings/R/cryptoKeys/K, got '" + name + "'");
      }
      this.kmsKeyName = name;
      return this;
    }

    /**
     * @param storageClass the storage class of new objects (default: the bucket's)
     * @return this builder
     */
    public Builder storageClass(StorageClass storageClass) {
      this.storageClass = Objects.requireNonNull(storageClass, "storageClass");
      return this;
    }

    /**
     * @param key a 32-byte AES-256 customer-supplied encryption key (CSEK); copied, never logged.
     *     Every read then needs the same key. Cannot be combined with {@link #kmsKeyName(String)}.
     * @return this builder
     */
    public Builder customerSuppliedKey(byte[] key) {
      Objects.requireNonNull(key, "customerSuppliedKey");
      if (key.length != 32) {
        throw new IllegalArgumentException("customerSuppliedKey must be 32 bytes (AES-256), got " + key.length + " bytes");
      }
      this.customerKey = key.clone();
      return this;
    }

    /**
     * @param policy how single store calls are retried (default {@link RetryPolicy#defaults()})
     * @return this builder
     */
    public Builder retryPolicy(RetryPolicy policy) {
      this.retry = Objects.requireNonNull(policy, "retryPolicy");
      return this;
    }

    /**
     * @param allow if true, the client may use a plain {@code http://} host that is not a loopback
     *     address; by default {@link #build()} refuses one, since tokens and data would cross the
     *     network unencrypted (see {@link io.binlogarchive.store.spi.Endpoints})
     * @return this builder
     */
    public Builder allowInsecureEndpoint(boolean allow) {
      this.allowInsecureEndpoint = allow;
      return this;
    }

    /**
     * @return the sink
     * @throws IllegalArgumentException naming every missing or conflicting setting, and a plain
     *     http host of the client that is not a loopback address unless allowed
     */
    public GcsSink build() {
      return new GcsSink(GcsSinkSettings.of(this));
    }
  }
}
