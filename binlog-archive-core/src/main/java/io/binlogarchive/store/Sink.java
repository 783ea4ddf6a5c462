package io.binlogarchive.store;

import io.binlogarchive.Archiver;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.StoreException;
import io.binlogarchive.store.spi.PreconditionFailedException;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An object store the archive lives in: a local directory ({@link FileSystemSink}), Amazon S3 or
 * Google Cloud Storage (their own modules).
 *
 * <p>Rules every implementation keeps, checked by the shared compatibility kit:
 *
 * <ul>
 *   <li>Nothing is visible under a key until {@link SinkWriter#commit()} succeeds; an aborted or
 *       abandoned writer leaves nothing behind.
 *   <li>Never overwrite: committing to a key that exists fails with {@link ObjectExistsException}.
 *   <li>{@link SinkWriter#commit()} proves what the store holds against what was written (size and
 *       the store's own checksum) and fails with {@link IntegrityException} on a mismatch.
 *   <li>Errors are {@link StoreException} (retryable or not), {@link NotFoundException}, or {@link
 *       java.io.IOException} on stream paths.
 * </ul>
 */
public interface Sink extends AutoCloseable {

  /**
   * Starts writing a new object. The caller writes the bytes, then commits or aborts.
   *
   * @param key the object key, a relative path with {@code /} separators
   * @param metadata small user metadata stored with the object (never secrets)
   * @return a writer; closing it without a commit aborts
   * @throws IOException if the upload cannot be started
   */
  SinkWriter create(String key, Map<String, String> metadata) throws IOException;

  /**
   * @param key the object key
   * @return the object's description, or empty if no object exists under the key
   * @throws IOException if the store cannot be asked
   */
  Optional<StoredObject> stat(String key) throws IOException;

  /**
   * @param key the object key
   * @return the object's bytes from the start
   * @throws NotFoundException if no object exists under the key
   * @throws IOException if the store cannot be read
   */
  default InputStream open(String key) throws IOException {
    return open(key, 0);
  }

  /**
   * @param key the object key
   * @param offset the first byte to return
   * @return the object's bytes from {@code offset}
   * @throws NotFoundException if no object exists under the key
   * @throws IOException if the store cannot be read
   */
  InputStream open(String key, long offset) throws IOException;

  /**
   * @param prefix a key prefix ({@code ""} for all)
   * @return every object whose key starts with the prefix, sorted by key; paging is done inside
   * @throws IOException if the store cannot be listed
   */
  List<StoredObject> list(String prefix) throws IOException;

  /**
   * Deletes an object; deleting a missing object is not an error.
   *
   * @param key the object key
   * @throws IOException if the store refuses
   */
  void delete(String key) throws IOException;

  /**
   * Whether this sink implements {@link #replace(String, String, byte[])} and {@link #delete(String,
   * String)} and reports {@link StoredObject#version()} from {@link #stat(String)} and {@link
   * SinkWriter#commit()}. Needed by {@link StoreLease}; the archive itself never replaces anything.
   *
   * @return {@code false} unless the sink overrides the conditional operations
   */
  default boolean supportsConditionalWrites() {
    return false;
  }

  /**
   * Replaces a small object only if it still has {@code expectedVersion} (compare-and-swap): S3
   * {@code PutObject} with {@code If-Match: <etag>}, GCS {@code ifGenerationMatch}, a locked check
   * and atomic rename on a local disk. Used for small coordination documents (leases), never for
   * archive objects. On S3 the version is a hash of the content, so a caller that needs every
   * write to change the version must never write the same bytes twice.
   *
   * @param key the object key
   * @param expectedVersion the {@link StoredObject#version()} the caller last saw
   * @param content the new content (small; held in memory)
   * @return the object now stored, with its new version
   * @throws PreconditionFailedException if the object is missing or has another version (nothing
   *     changed)
   * @throws UnsupportedOperationException unless {@link #supportsConditionalWrites()}
   * @throws IOException if the outcome could not be established
   */
  default StoredObject replace(String key, String expectedVersion, byte[] content) throws IOException {
    throw new UnsupportedOperationException(describe() + " does not support conditional replace");
  }

  /**
   * Deletes an object only if it still has {@code expectedVersion}: S3 {@code DeleteObject} with
   * {@code If-Match}, GCS {@code ifGenerationMatch}, a locked check and unlink on a local disk.
   *
   * @param key the object key
   * @param expectedVersion the {@link StoredObject#version()} the caller last saw
   * @throws PreconditionFailedException if the object is missing or has another version (nothing
   *     changed)
   * @throws UnsupportedOperationException unless {@link #supportsConditionalWrites()}
   * @throws IOException if the outcome could not be established
   */
  default void delete(String key, String expectedVersion) throws IOException {
    throw new UnsupportedOperationException(describe() + " does not support conditional delete");
  }

  /**
   * How many bytes one upload in progress holds in memory inside the sink (multipart part buffers,
   * resumable-upload chunks), for {@link Archiver.Builder#memoryBudget(long)}.
   *
   * @return bytes per concurrent upload; 0 (the default) for sinks that stream straight through
   */
  default long bufferedBytesPerUpload() {
    return 0;
  }

  /** @return a short description for logs, e.g. {@code s3://bucket/prefix}; never credentials */
  String describe();

  /** Releases what the sink owns; clients passed in by the caller stay open. */
  @Override
  default void close() throws IOException {}

  /**
   * A capability: removes what killed writers left behind under {@code prefix} (temporary files of
   * uploads that never committed). Sinks whose store cleans up by itself keep the default, which
   * does nothing; {@link FileSystemSink} removes its hidden part files. The archiver calls it
   * periodically; it must be safe beside live writers.
   *
   * @param prefix a key prefix ({@code ""} for the whole sink)
   * @param olderThan where a sink cannot tell a live writer from a dead one, how long a leftover
   *     must have gone unmodified
   * @return how many leftovers were removed
   * @throws IOException if the store cannot be walked or a leftover not removed
   */
  default int removeStaleParts(String prefix, java.time.Duration olderThan) throws IOException {
    return 0;
  }
}
