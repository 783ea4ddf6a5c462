package io.binlogarchive.internal.agent;

import io.binlogarchive.store.Cursor;
import io.binlogarchive.store.CursorStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * An archiver's cursor store, opened on first use instead of when the archiver is built, so that
 * building is configuration only. Opening first runs the archiver's check of the server (its
 * preflight, if any; it runs again on the next use if it failed), then opens the cursor file, which
 * takes its exclusive lock. A store the caller handed over already open is only checked. {@link
 * #close()} closes what was opened or handed over, and nothing opens afterwards (a store that was
 * open can still be read, as before). No compatibility promise.
 */
public final class DeferredCursorStore implements CursorStore {
  private final Path file;
  private final Runnable check;
  private CursorStore store;
  private boolean checked;
  private boolean closed;

  private DeferredCursorStore(CursorStore store, Path file, Runnable check) {
    this.store = store;
    this.file = file;
    this.check = Objects.requireNonNull(check, "check");
  }

  /**
   * @param store a store the caller opened and handed over (closed with this one)
   * @param check runs once before first use; throws to refuse it
   * @return the deferred store
   */
  public static DeferredCursorStore of(CursorStore store, Runnable check) {
    return new DeferredCursorStore(Objects.requireNonNull(store, "store"), null, check);
  }

  /**
   * @param file the cursor file, opened (and locked) on first use with {@link CursorStore#file(Path)}
   * @param check runs once before first use; throws to refuse it
   * @return the deferred store
   */
  public static DeferredCursorStore file(Path file, Runnable check) {
    return new DeferredCursorStore(null, Objects.requireNonNull(file, "file"), check);
  }

  /**
   * Runs the check and opens the store unless done before.
   *
   * @return the open store
   * @throws IllegalStateException once closed
   * @throws io.binlogarchive.ArchiveException if the check refuses, or another archiver holds the cursor
   * @throws IOException if the cursor file cannot be opened
   */
  public synchronized CursorStore open() throws IOException {
    if (closed) {
      throw new IllegalStateException("archiver is closed");
    }
    if (!checked) {
      check.run();
      checked = true;
    }
    if (store == null) {
      store = CursorStore.file(file);
    }
    return store;
  }

  /** Opens the store first, but once closed reads what an opened store holds, as a closed file store can. */
  @Override
  public Optional<Cursor> load() throws IOException {
    CursorStore s;
    synchronized (this) {
      s = closed ? store : null;
    }
    return (s != null ? s : open()).load();
  }

  @Override
  public void commit(Cursor cursor) throws IOException {
    open().commit(cursor);
  }

  @Override
  public synchronized void close() throws IOException {
    closed = true;
    if (store != null) {
      store.close();
    }
  }

  @Override
  public synchronized String toString() {
    return store != null ? store.toString() : "cursor file " + file + " (not yet opened)";
  }
}
