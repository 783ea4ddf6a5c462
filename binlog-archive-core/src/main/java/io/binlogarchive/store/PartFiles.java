package io.binlogarchive.store;

import io.binlogarchive.internal.FsSync;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hidden temporary files ({@code .<name>.<uuid>.part}) a {@link FileSystemSink} writes objects
 * to, and the sweep that removes those a killed writer left behind.
 *
 * <p>A part file is live while its writer holds it: from creation until its writer is done it is
 * registered in this JVM (by file identity, so a second path to the same directory does not hide
 * it), and its writer holds an exclusive lock on it, which other processes see and which dies with
 * a killed process. A sweep removes a part file as soon as its writer is gone, whatever its age:
 *
 * <ul>
 *   <li>a part file registered in this JVM is never touched (it is never even opened: closing any
 *       channel on a file drops this process's locks on it); registration and the sweep's check
 *       share one monitor, so a writer in this JVM is registered before any sweep here sees it;
 *   <li>otherwise its lock is taken: if that succeeds no process holds it, and it is removed;
 *   <li>only where the file system refuses locks does age decide: the file is removed once it has
 *       gone unmodified for the given age (a live writer keeps writing to it), else kept.
 * </ul>
 *
 * <p>A writer in another process takes its lock right after creating its part file; should a sweep
 * take the lock first and remove the file, the writer finds its lock refused or its file gone and
 * starts over under a new name. Should a writer nevertheless lose its part file (a file system that
 * grants locks without enforcing them across hosts, or one without locks and a writer frozen for
 * longer than the age), its commit fails, since the object is published by linking the part file:
 * nothing is lost or published truncated.
 *
 * <p>A writer also removes, when it aborts, the directories it created for its object if they are
 * empty again; a sweep does the same for the directories of the part files it removes. A writer that
 * finds its directory removed between creating it and creating its part file creates it again.
 */
final class PartFiles {
  private static final Logger LOG = LoggerFactory.getLogger(FileSystemSink.class);
  static final String SUFFIX = ".part";
  private static final Pattern NAME =
      Pattern.compile("\\.(.+)\\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.part");
  /** Attempts to create a part file whose directory a concurrent abort or sweep keeps removing. */
  private static final int CREATE_ATTEMPTS = 8;
  /** Identities of the part files being written in this JVM. */
  private static final Set<Object> LIVE = ConcurrentHashMap.newKeySet();
  /**
   * Directories that writers in this JVM created, with how many of those writers are not done yet
   * (guarded by itself): a writer that finds such a directory counts it as created by itself too,
   * so whichever of them is done last removes it if it is empty.
   */
  private static final Map<Path, Integer> CREATED = new HashMap<>();

  private PartFiles() {}

  /** What a sweep did with one stale-looking part file. */
  private enum Sweep {
    REMOVED,
    KEPT,
    /** Kept: the file system refuses locks and the file is younger than the age. */
    NO_LOCKS
  }

  /** One part file being written: open, locked where the file system allows, registered. */
  static final class Part {
    final Path path;
    final FileChannel channel;
    /** The deepest directory that existed before this part was created: removals stop there. */
    private final Path existed;
    private final Object id;
    private boolean released; // guarded by CREATED

    private Part(Path path, FileChannel channel, Path existed, Object id) {
      this.path = path;
      this.channel = channel;
      this.existed = existed;
      this.id = id;
    }

    /** Deregisters the part and closes its channel (which drops its lock); the file stays. */
    void release() {
      synchronized (CREATED) {
        releaseLocked();
      }
    }

    /**
     * Releases and deletes the part, then the directories it created if they are empty and no other
     * writer in this JVM uses them. Never throws.
     */
    void discard() {
      synchronized (CREATED) { // so that no writer finds our directories before we removed them
        releaseLocked();
        try {
          Files.deleteIfExists(path);
        } catch (IOException e) {
          return; // a leftover part file is ignored by listings and removed by a later sweep
        }
        Path keep = path.getParent();
        while (!keep.equals(existed) && !CREATED.containsKey(keep)) {
          keep = keep.getParent();
        }
        removeEmptyDirectories(path.getParent(), keep);
      }
    }

    private void releaseLocked() {
      if (released) {
        return;
      }
      released = true;
      LIVE.remove(id);
      for (Path d = path.getParent(); !d.equals(existed); d = d.getParent()) {
        CREATED.computeIfPresent(d, (k, n) -> n == 1 ? null : n - 1);
      }
      try {
        channel.close();
      } catch (IOException ignored) {
        // nothing was pending: callers force before they publish
      }
    }
  }

  /**
   * Creates a new part file beside {@code target}, creating missing directories below {@code root}.
   *
   * @return the part, open for writing
   * @throws IOException if it cannot be created
   */
  static Part create(Path root, Path target) throws IOException {
    Path dir = target.getParent();
    for (int attempt = 1; ; attempt++) {
      Path tmp = target.resolveSibling("." + target.getFileName() + "." + UUID.randomUUID() + SUFFIX);
      synchronized (CREATED) {
        Path existed = dir;
        while (!existed.equals(root) && (CREATED.containsKey(existed) || !Files.isDirectory(existed))) {
          existed = existed.getParent();
        }
        FileChannel ch;
        try {
          FsSync.createDirectories(dir); // each new level fsynced into its parent (a new timeline's too)
          ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (NoSuchFileException e) {
          if (attempt == CREATE_ATTEMPTS) {
            throw e;
          }
          continue; // another process's abort or a sweep removed the directory, empty, just now
        }
        Object id;
        try {
          id = identity(tmp, Files.readAttributes(tmp, BasicFileAttributes.class));
          if (!lockOwn(ch, tmp, id)) {
            ch.close(); // a sweep in another process took it between our create and our lock: start over
            if (attempt == CREATE_ATTEMPTS) {
              throw new IOException("cannot keep a temporary file for " + target + ": a sweep in another process"
                  + " removed it " + attempt + " times in a row");
            }
            continue;
          }
        } catch (IOException | RuntimeException e) {
          ch.close();
          if (e instanceof NoSuchFileException && attempt < CREATE_ATTEMPTS) {
            continue;
          }
          throw e;
        }
        LIVE.add(id);
        for (Path d = dir; !d.equals(existed); d = d.getParent()) {
          CREATED.merge(d, 1, Integer::sum);
        }
        return new Part(tmp, ch, existed, id);
      }
    }
  }

  /**
   * Locks a new part file for its writer.
   *
   * @return false if a sweep in another process holds its lock or has removed it; true if it is
   *     ours (locked, or on a file system without locks, where age protects it)
   */
  private static boolean lockOwn(FileChannel ch, Path tmp, Object id) throws IOException {
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (IOException | OverlappingFileLockException e) {
      return true; // no locks here: the registration and the age protect the file
    }
    if (lock == null) {
      return false;
    }
    try {
      return identity(tmp, Files.readAttributes(tmp, BasicFileAttributes.class)).equals(id);
    } catch (NoSuchFileException e) {
      return false;
    }
  }

  /**
   * Removes abandoned part files below {@code start} whose object keys start with {@code prefix}.
   *
   * @return how many were removed
   */
  static int sweep(Path root, Path start, String prefix, Duration olderThan) throws IOException {
    Instant cutoff = Instant.now().minus(olderThan);
    int[] removed = new int[1];
    int[] unlockable = new int[1];
    Files.walkFileTree(start, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path p, BasicFileAttributes a) throws IOException {
        Matcher m = NAME.matcher(p.getFileName().toString());
        if (!a.isRegularFile() || !m.matches()) {
          return FileVisitResult.CONTINUE;
        }
        String key = root.relativize(p.resolveSibling(m.group(1))).toString().replace('\\', '/');
        if (!key.startsWith(prefix)) {
          return FileVisitResult.CONTINUE;
        }
        Sweep outcome;
        synchronized (CREATED) { // a writer in this JVM registers its part before we can look at it
          outcome = LIVE.contains(identity(p, a)) ? Sweep.KEPT : removeIfAbandoned(p, cutoff);
        }
        if (outcome == Sweep.NO_LOCKS) {
          unlockable[0]++;
        } else if (outcome == Sweep.REMOVED) {
          removed[0]++;
          LOG.atInfo()
              .addKeyValue("part_file", root.relativize(p).toString())
              .addKeyValue("bytes", a.size())
              .addKeyValue("modified_at", a.lastModifiedTime().toInstant())
              .log("removed the temporary file {} of an upload that was never committed or aborted"
                  + " (its writer was killed)", p);
          removeEmptyDirectories(p.getParent(), root);
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path p, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE; // removed while we walked
        }
        throw e;
      }
    });
    if (unlockable[0] > 0) {
      LOG.atWarn().log("kept {} temporary file(s) under {}: the file system refuses locks, so only age shows"
          + " their writers are gone, and they were modified less than {} ago", unlockable[0], start, olderThan);
    }
    return removed[0];
  }

  /**
   * Deletes {@code p} if no process holds its lock, whatever its age; where the file system refuses
   * locks, only if it has not been modified since {@code cutoff}.
   *
   * @return what became of it
   */
  private static Sweep removeIfAbandoned(Path p, Instant cutoff) throws IOException {
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      FileLock lock;
      try {
        lock = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        return Sweep.KEPT; // held in this JVM through another path
      } catch (IOException e) {
        if (Files.getLastModifiedTime(p).toInstant().isBefore(cutoff)) {
          Files.delete(p);
          return Sweep.REMOVED;
        }
        LOG.atDebug().log("kept {}: cannot lock it to prove its writer is gone ({})", p, e.toString());
        return Sweep.NO_LOCKS;
      }
      if (lock == null) {
        return Sweep.KEPT; // its writer in another process is alive
      }
      Files.delete(p);
      return Sweep.REMOVED;
    } catch (NoSuchFileException e) {
      return Sweep.KEPT;
    }
  }

  /** Removes {@code dir} and its parents while they are empty, stopping at {@code stop} (kept). */
  private static void removeEmptyDirectories(Path dir, Path stop) {
    for (Path d = dir; !d.equals(stop) && d.startsWith(stop); d = d.getParent()) {
      try {
        Files.delete(d);
      } catch (IOException e) {
        return; // not empty (the usual case), already gone, or not ours to remove (a mount point)
      }
    }
  }

  private static Object identity(Path p, BasicFileAttributes a) {
    Object key = a.fileKey();
    return key != null ? key : p.toAbsolutePath().normalize();
  }
}
