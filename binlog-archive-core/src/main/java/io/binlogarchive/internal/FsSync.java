package io.binlogarchive.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** fsync helpers for crash-safe creates, renames and directories. */
public final class FsSync {
  private FsSync() {}

  /** Makes a directory's entries durable; a seam so tests can see which directories are synced. */
  @FunctionalInterface
  interface DirectorySync {
    void sync(Path dir) throws IOException;
  }

  /** Makes a rename or create in {@code dir} durable. */
  public static void directory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /**
   * Creates {@code dir} and its missing parents, like {@link Files#createDirectories}, and makes each
   * new level durable: every directory it created is fsynced, and so is the parent of each (which
   * holds its entry), up to the deepest directory that already existed. Existing directories are
   * left as they are and nothing is synced when {@code dir} exists. A level that another process
   * creates at the same moment counts as existing.
   *
   * @return the directories this call created, outermost first
   */
  public static List<Path> createDirectories(Path dir) throws IOException {
    return createDirectories(dir, FsSync::directory);
  }

  public static List<Path> createDirectories(Path dir, DirectorySync sync) throws IOException {
    return createDirectories(dir, sync, new java.nio.file.attribute.FileAttribute<?>[0]);
  }

  /** As {@link #createDirectories(Path)}, creating each new level with {@code attrs} (e.g. owner-only). */
  public static List<Path> createDirectories(Path dir, java.nio.file.attribute.FileAttribute<?>... attrs) throws IOException {
    return createDirectories(dir, FsSync::directory, attrs);
  }

  private static List<Path> createDirectories(Path dir, DirectorySync sync,
      java.nio.file.attribute.FileAttribute<?>[] attrs) throws IOException {
    Path abs = dir.toAbsolutePath().normalize();
    if (Files.isDirectory(abs)) {
      return List.of();
    }
    List<Path> missing = new ArrayList<>();
    for (Path d = abs; d != null && !Files.isDirectory(d); d = d.getParent()) {
      missing.add(0, d);
    }
    List<Path> created = new ArrayList<>();
    for (Path d : missing) {
      try {
        Files.createDirectory(d, attrs);
        created.add(d);
      } catch (FileAlreadyExistsException e) {
        if (!Files.isDirectory(d)) {
          throw e; // a file where a directory belongs
        }
      }
    }
    // deepest first: each level, then the parent that holds its entry (synced once)
    for (int i = created.size() - 1; i >= 0; i--) {
      Path d = created.get(i);
      sync.sync(d);
      if (i == 0 || !created.get(i - 1).equals(d.getParent())) {
        sync.sync(d.getParent());
      }
    }
    return List.copyOf(created);
  }
}
