package io.binlogarchive.restore;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.internal.FsSync;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Writes files of the read side (fetched binlogs, verify state) into directories other local users
 * may be able to write to: temporary files get unpredictable names and are created exclusively
 * without following links, and a link planted under a final name is refused, never followed or
 * silently replaced.
 */
final class LocalFiles {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final int ATTEMPTS = 16;
  private static final Pattern TEMP = Pattern.compile("\\.(.+)\\.[0-9a-f]{16}\\.part");

  private LocalFiles() {}

  /** A new, empty temporary file, open for writing, that no one else created. */
  record Temp(Path path, FileChannel channel) {}

  /**
   * Creates {@code .<name>.<random>.part} in {@code directory} exclusively ({@code CREATE_NEW},
   * never through a link), trying other random names if one is taken. The file is locked while
   * its channel is open (where the file system has locks), so {@link #sweepTemps} leaves it alone.
   */
  static Temp createTemp(Path directory, String name) throws IOException {
    byte[] suffix = new byte[8];
    FileAlreadyExistsException last = null;
    for (int i = 0; i < ATTEMPTS; i++) {
      RANDOM.nextBytes(suffix);
      Path p = directory.resolve("." + name + "." + HexFormat.of().formatHex(suffix) + ".part");
      FileChannel ch;
      try {
        ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS);
      } catch (FileAlreadyExistsException e) {
        last = e;
        continue;
      }
      try {
        ch.tryLock();
      } catch (IOException | UnsupportedOperationException e) {
        // no locks here: the file is simply not protected from a concurrent sweep
      }
      return new Temp(p, ch);
    }
    throw new IOException("cannot create a temporary file for " + name + " in " + directory + ": " + ATTEMPTS
        + " random names were all taken", last);
  }

  /**
   * Deletes the temporary files of {@link #createTemp} for {@code names} that a killed process left
   * in {@code directory}: regular files (links and others are left alone) whose lock can be taken,
   * so none still being written, in this process or another.
   *
   * @return how many were deleted
   */
  static int sweepTemps(Path directory, Set<String> names) throws IOException {
    int deleted = 0;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
      for (Path p : entries) {
        Matcher m = TEMP.matcher(p.getFileName().toString());
        if (!m.matches() || !names.contains(m.group(1))
            || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
          continue;
        }
        // read and write: opening a FIFO swapped in meanwhile this way does not block (Linux)
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE,
            LinkOption.NOFOLLOW_LINKS); FileLock lock = ch.tryLock()) {
          if (lock != null) {
            Files.delete(p);
            deleted++;
          }
        } catch (IOException | OverlappingFileLockException | UnsupportedOperationException e) {
          // held by a fetch of this process, gone already, or not lockable here: left alone
        }
      }
    }
    return deleted;
  }

  /**
   * Fails if {@code file} exists as anything but a regular file (a symbolic link above all),
   * without following it.
   *
   * @throws ArchiveException naming the file and what it is
   */
  static void requireNoLink(Path file) throws IOException {
    BasicFileAttributes a;
    try {
      a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      return;
    }
    if (a.isRegularFile()) {
      return;
    }
    String what = a.isSymbolicLink() ? "a symbolic link (to " + Files.readSymbolicLink(file) + ")"
        : a.isDirectory() ? "a directory" : "not a regular file";
    throw new ArchiveException("refusing to write " + file + ": it is " + what + ", which is never followed or"
        + " replaced; remove it (someone else may have planted it) and try again");
  }

  /**
   * Renames {@code temp} to {@code target} atomically, replacing a regular file there but never a
   * link or anything else ({@link #requireNoLink}). The rename itself never follows a link either.
   */
  static void moveIntoPlace(Path temp, Path target) throws IOException {
    requireNoLink(target);
    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * Creates {@code directory} (and missing parents) readable and writable by its owner only
   * ({@code rwx------}) where the file system has POSIX permissions; an existing directory is left
   * as it is.
   */
  static void createPrivateDirectories(Path directory) throws IOException {
    if (Files.isDirectory(directory)) {
      return;
    }
    if (directory.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      FsSync.createDirectories(directory,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } else {
      FsSync.createDirectories(directory);
    }
  }
}
