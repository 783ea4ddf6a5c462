package io.binlogarchive.store;

import io.binlogarchive.IntegrityException;
import io.binlogarchive.ObjectExistsException;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The write side of one object being created in a {@link Sink}. Bytes are published only by
 * {@link #commit()}; {@link #close()} without a commit aborts, so an exception inside
 * try-with-resources never publishes a truncated object.
 */
public abstract class SinkWriter extends OutputStream {

  /** For implementations. */
  protected SinkWriter() {}

  /** Writes one byte through {@link #write(byte[], int, int)}. */
  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  /**
   * Appends bytes to the object being written; every implementation streams arrays (the
   * one-byte {@link #write(int)} goes through here).
   *
   * @throws IOException if the bytes cannot be buffered or sent, or the writer is aborted
   */
  @Override
  public abstract void write(byte[] b, int off, int len) throws IOException;

  /**
   * Publishes the object under its key, if no object exists there, and proves the store holds
   * exactly the bytes written.
   *
   * @return what the store now holds
   * @throws ObjectExistsException if an object already exists under the key (nothing is changed)
   * @throws IntegrityException if the store's checksum or size differs from what was written
   * @throws IOException if the outcome could not be established
   */
  public abstract StoredObject commit() throws IOException;

  /** Discards everything written; safe to call at any time and more than once. Never throws. */
  public abstract void abort();

  /** Aborts unless {@link #commit()} succeeded. */
  @Override
  public void close() {
    if (!isCommitted()) {
      abort();
    }
  }

  /** @return whether {@link #commit()} has succeeded */
  protected abstract boolean isCommitted();
}
