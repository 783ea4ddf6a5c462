package io.binlogarchive.store;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.Archiver;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.StoreException;
import io.binlogarchive.internal.Digests;
import io.binlogarchive.internal.FsSync;
import io.binlogarchive.store.spi.PreconditionFailedException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A sink in a local directory (a mounted volume, an NFS share, or a staging area). Objects are
 * files below the root; keys map to relative paths.
 *
 * <p>An object is written to a hidden temporary file in its final directory, fsynced, then linked
 * to its final name with {@code link(2)} (which fails if the name exists, so nothing is ever
 * overwritten), and the directory is fsynced. An aborted upload removes its temporary file and
 * the directories it created, if they are empty again. A killed writer leaves a hidden {@code
 * .<name>.<uuid>.part} file, which listings ignore and {@link #removeStaleParts(String, Duration)}
 * removes (an {@link Archiver} does so in its own archive, see there). User metadata is not kept:
 * the sidecars hold everything the archive needs.
 */
public final class FileSystemSink implements Sink {
  private static final String PART_SUFFIX = PartFiles.SUFFIX;
  private final Path root;

  private FileSystemSink(Path root) {
    this.root = root;
  }

  /**
   * @param root the directory that holds the archive; created if missing
   * @return the sink
   * @throws ArchiveException if the directory cannot be created
   */
  public static FileSystemSink of(Path root) {
    Path abs = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
    try {
      FsSync.createDirectories(abs);
    } catch (IOException e) {
      throw new StoreException("cannot create archive directory " + abs + ": " + e.getMessage(), false, e);
    }
    return new FileSystemSink(abs);
  }

  /** @return the root directory */
  public Path root() {
    return root;
  }

  /** @return the file of {@code key}, refusing keys that would leave the root or name a temporary file */
  Path resolve(String key) {
    if (key.isEmpty() || key.startsWith("/") || key.endsWith("/") || key.contains("\\")) {
      throw new IllegalArgumentException("invalid object key '" + key + "'");
    }
    for (String part : key.split("/", -1)) {
      if (part.isEmpty() || part.equals(".") || part.equals("..") || part.endsWith(PART_SUFFIX) && part.startsWith(".")) {
        throw new IllegalArgumentException("invalid object key '" + key + "'");
      }
    }
    return root.resolve(key);
  }

  @Override
  public SinkWriter create(String key, Map<String, String> metadata) throws IOException {
    Path target = resolve(key);
    return new FsWriter(key, target, PartFiles.create(root, target));
  }

  /**
   * Removes the temporary files of uploads whose writers were killed (a crash or {@code kill -9}
   * mid-upload), below the objects whose keys start with {@code prefix}, and then their directories
   * if that leaves them empty. Each removal is logged at INFO with {@code part_file}, {@code bytes}
   * and {@code modified_at}.
   *
   * <p>A file is removed as soon as no writer holds it, whatever its age: writers in this JVM are
   * known, and a writer in another process holds a lock on its file that dies with it. So an agent
   * restarted in a crash loop removes what its killed predecessor left. Only where the file system
   * refuses locks does age decide: a file is removed there once it has not been modified for {@code
   * olderThan}. Safe to call at any time, from any number of processes, beside live writers.
   *
   * @param prefix a key prefix ({@code ""} for the whole sink)
   * @param olderThan where the file system refuses locks, how long a file must have gone unmodified,
   *     at least one minute (an {@link Archiver} uses 15 minutes)
   * @return how many files were removed
   * @throws IllegalArgumentException if {@code olderThan} is below one minute
   * @throws IOException if the directory cannot be walked or a file not removed
   */
  @Override
  public int removeStaleParts(String prefix, Duration olderThan) throws IOException {
    Objects.requireNonNull(prefix, "prefix");
    if (Objects.requireNonNull(olderThan, "olderThan").compareTo(Duration.ofMinutes(1)) < 0) {
      throw new IllegalArgumentException("olderThan must be at least one minute, got " + olderThan);
    }
    Path start = start(prefix);
    return Files.isDirectory(start) ? PartFiles.sweep(root, start, prefix, olderThan) : 0;
  }

  /** @return the deepest directory that holds every key starting with {@code prefix} */
  private Path start(String prefix) {
    int slash = prefix.lastIndexOf('/');
    return slash < 0 ? root : root.resolve(prefix.substring(0, slash));
  }

  @Override
  public Optional<StoredObject> stat(String key) throws IOException {
    Path p = resolve(key);
    try {
      BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
      if (!a.isRegularFile()) {
        return Optional.empty();
      }
      return Optional.of(new StoredObject(key, a.size(), a.lastModifiedTime().toInstant(), Map.of(), Map.of(), version(a)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
  }

  @Override
  public InputStream open(String key, long offset) throws IOException {
    Path p = resolve(key);
    FileChannel ch;
    try {
      ch = FileChannel.open(p, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new NotFoundException("object " + key + " does not exist in " + describe());
    }
    ch.position(offset);
    return Channels.newInputStream(ch);
  }

  @Override
  public List<StoredObject> list(String prefix) throws IOException {
    Path start = start(prefix);
    if (!Files.isDirectory(start)) {
      return List.of();
    }
    List<StoredObject> out = new ArrayList<>();
    Files.walkFileTree(start, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path p, BasicFileAttributes a) throws IOException {
        String name = p.getFileName().toString();
        String key = root.relativize(p).toString().replace('\\', '/');
        if (name.startsWith(".") && name.endsWith(PART_SUFFIX) || !key.startsWith(prefix)) {
          return FileVisitResult.CONTINUE;
        }
        BasicFileAttributes target = a;
        if (a.isSymbolicLink()) {
          try {
            target = Files.readAttributes(p, BasicFileAttributes.class);
          } catch (NoSuchFileException e) {
            return FileVisitResult.CONTINUE;
          }
        }
        if (target.isRegularFile()) {
          out.add(new StoredObject(key, target.size(), target.lastModifiedTime().toInstant(), Map.of(), Map.of(),
              version(target)));
        }
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFileFailed(Path p, IOException e) throws IOException {
        if (e instanceof NoSuchFileException) {
          return FileVisitResult.CONTINUE; // deleted, or an aborted upload's empty directory removed, while we walked
        }
        throw e;
      }
    });
    out.sort(Comparator.comparing(StoredObject::key));
    return out;
  }

  @Override
  public void delete(String key) throws IOException {
    Path p = resolve(key);
    if (Files.deleteIfExists(p)) {
      FsSync.directory(p.getParent());
    }
  }

  @Override
  public boolean supportsConditionalWrites() {
    return true;
  }

  /**
   * Checks the version and renames a fully written, fsynced temporary file over the object, both
   * under an exclusive lock ({@code .conditional-writes.lock.part} in the root, plus a JVM-wide
   * monitor), so every process that uses conditional writes on this directory sees them atomic. The
   * version is the file's identity (device, inode), modification time in nanoseconds and size: a
   * replace always makes a new inode, so it changes on every replace.
   */
  @Override
  public StoredObject replace(String key, String expectedVersion, byte[] content) throws IOException {
    Objects.requireNonNull(expectedVersion, "expectedVersion");
    Path target = resolve(key);
    return ConditionalWrites.locked(root, () -> {
      requireVersion(key, expectedVersion, "replace");
      PartFiles.Part tmp = PartFiles.create(root, target);
      try {
        ByteBuffer buf = ByteBuffer.wrap(content);
        while (buf.hasRemaining()) {
          tmp.channel.write(buf);
        }
        tmp.channel.force(true);
        Files.move(tmp.path, target, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        tmp.release();
      } catch (IOException | RuntimeException e) {
        tmp.discard();
        throw e;
      }
      FsSync.directory(target.getParent());
      return stat(key).orElseThrow(() -> new IOException("object " + key + " vanished right after replace"));
    });
  }

  @Override
  public void delete(String key, String expectedVersion) throws IOException {
    Objects.requireNonNull(expectedVersion, "expectedVersion");
    Path p = resolve(key);
    ConditionalWrites.locked(root, () -> {
      requireVersion(key, expectedVersion, "delete");
      Files.delete(p);
      FsSync.directory(p.getParent());
      return null;
    });
  }

  private void requireVersion(String key, String expected, String what) throws IOException {
    Optional<StoredObject> now = stat(key);
    if (now.isEmpty()) {
      throw new PreconditionFailedException(
          "cannot " + what + " " + key + " in " + describe() + ": expected version " + expected + ", but it is gone");
    }
    if (!expected.equals(now.get().version())) {
      throw new PreconditionFailedException("cannot " + what + " " + key + " in " + describe() + ": expected version "
          + expected + ", found " + now.get().version());
    }
  }

  static String version(BasicFileAttributes a) {
    Object fk = a.fileKey();
    String id = fk == null ? "" : fk.toString().replaceAll("[^0-9a-zA-Z=,]", "");
    return id + ";" + a.lastModifiedTime().to(java.util.concurrent.TimeUnit.NANOSECONDS) + ";" + a.size();
  }

  @Override
  public String describe() {
    return root.toUri().toString();
  }

  @Override
  public String toString() {
    return "FileSystemSink[" + root + "]";
  }

  private final class FsWriter extends SinkWriter {
    private final String key;
    private final Path target;
    private final PartFiles.Part tmp;
    private final FileChannel ch;
    private final MessageDigest sha256 = Digests.sha256();
    private long size;
    private boolean committed;
    private boolean aborted;

    FsWriter(String key, Path target, PartFiles.Part tmp) {
      this.key = key;
      this.target = target;
      this.tmp = tmp;
      this.ch = tmp.channel;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (committed || aborted) {
        throw new IOException("write to " + key + " after " + (committed ? "commit" : "abort"));
      }
      ByteBuffer buf = ByteBuffer.wrap(b, off, len);
      try {
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
      } catch (IOException e) {
        throw new IOException("cannot write " + key + " in " + root + ": " + e.getMessage(), e);
      }
      sha256.update(b, off, len);
      size += len;
    }

    @Override
    public StoredObject commit() throws IOException {
      if (committed) {
        throw new IllegalStateException(key + " is already committed");
      }
      if (aborted) {
        throw new IllegalStateException(key + " was aborted");
      }
      try {
        ch.force(true);
        Files.createLink(target, tmp.path); // still locked: a sweep cannot take the file away first
      } catch (FileAlreadyExistsException e) {
        abort();
        throw new ObjectExistsException(key, "object " + key + " already exists in " + describe());
      } catch (IOException e) {
        abort();
        throw new IOException("cannot commit " + key + " in " + root + ": " + e.getMessage(), e);
      }
      committed = true;
      tmp.release();
      Files.deleteIfExists(tmp.path);
      FsSync.directory(target.getParent());
      String hex = HexFormat.of().formatHex(sha256.digest());
      BasicFileAttributes attrs = Files.readAttributes(target, BasicFileAttributes.class);
      return new StoredObject(key, size, attrs.lastModifiedTime().toInstant(), Map.of("sha256", hex), Map.of(),
          version(attrs));
    }

    @Override
    public void abort() {
      if (committed || aborted) {
        return;
      }
      aborted = true;
      tmp.discard();
    }

    @Override
    protected boolean isCommitted() {
      return committed;
    }
  }
}
