package io.binlogarchive;

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

  /** @return a short description for logs, e.g. {@code s3://bucket/prefix}; never credentials */
  String describe();

  /** Releases what the sink owns; clients passed in by the caller stay open. */
  @Override
  default void close() throws IOException {}
}
