package io.binlogarchive.store;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.internal.FsSync;
import io.binlogarchive.internal.RecordJson;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/** A JSON cursor file, replaced atomically and guarded by an exclusive lock on a sibling file. */
final class FileCursorStore implements CursorStore {
  private final Path file;
  private final FileChannel lockChannel;
  private final FileLock lock;

  private FileCursorStore(Path file, FileChannel lockChannel, FileLock lock) {
    this.file = file;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  static FileCursorStore open(Path file) throws IOException {
    Path abs = file.toAbsolutePath().normalize();
    FsSync.createDirectories(abs.getParent());
    Path lockFile = abs.resolveSibling(abs.getFileName() + ".lock");
    FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    if (lock == null) {
      ch.close();
      throw new ArchiveException(
          "cursor " + abs + " is locked by another archiver (lock file " + lockFile
              + "); only one archiver may own a cursor");
    }
    return new FileCursorStore(abs, ch, lock);
  }

  @Override
  public Optional<Cursor> load() throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    try {
      Cursor c = RecordJson.readCursor(bytes);
      if (c == null) {
        throw new IOException("empty document");
      }
      return Optional.of(c);
    } catch (IOException | RuntimeException e) {
      throw new ArchiveException(
          "cursor file " + file + " is corrupt (" + firstLine(e.getMessage())
              + "); it was not changed. Move it aside to let the archiver rebuild its position"
              + " from the archive's sidecars, which it checks file by file.",
          e);
    }
  }

  @Override
  public void commit(Cursor cursor) throws IOException {
    ensureOpen();
    byte[] json = RecordJson.write(cursor);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (FileChannel ch =
        FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buf = ByteBuffer.wrap(json);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("cannot replace cursor " + file + " atomically on this file system", e);
    }
    FsSync.directory(file.getParent());
  }

  private void ensureOpen() {
    if (!lock.isValid()) {
      throw new IllegalStateException("cursor store " + file + " is closed");
    }
  }

  @Override
  public void close() throws IOException {
    try {
      if (lock.isValid()) {
        lock.release();
      }
    } finally {
      lockChannel.close();
    }
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "unreadable";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  @Override
  public String toString() {
    return "FileCursorStore[" + file + "]";
  }
}
