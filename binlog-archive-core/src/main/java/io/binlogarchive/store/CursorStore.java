package io.binlogarchive.store;

import io.binlogarchive.ArchiveException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Loads and atomically commits the archiver's {@link Cursor}. An implementation holds an exclusive
 * claim while open, so only one archiver owns a cursor; {@link #close()} releases it.
 */
public interface CursorStore extends AutoCloseable {

  /**
   * @return the committed cursor, or empty before the first commit
   * @throws ArchiveException if the stored cursor is unreadable or invalid (never silently reset)
   * @throws IOException if it cannot be read
   */
  Optional<Cursor> load() throws IOException;

  /**
   * Replaces the cursor atomically: after a crash at any point, {@link #load()} returns either the
   * old or the new cursor, whole.
   *
   * @param cursor the new cursor
   * @throws IOException if it cannot be made durable
   */
  void commit(Cursor cursor) throws IOException;

  /** Releases the exclusive claim. */
  @Override
  void close() throws IOException;

  /**
   * A JSON file written with temp file, fsync, rename and directory fsync, locked with an
   * exclusive lock on {@code <file>.lock} for as long as the store is open.
   *
   * @param file the cursor file
   * @return the opened store
   * @throws ArchiveException if another process or archiver holds the lock
   * @throws IOException if the lock file cannot be created
   */
  static CursorStore file(Path file) throws IOException {
    return FileCursorStore.open(file);
  }
}
