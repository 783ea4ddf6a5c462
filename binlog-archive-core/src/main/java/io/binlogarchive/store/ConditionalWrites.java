package io.binlogarchive.store;

import io.binlogarchive.RetryPolicy;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Serialises conditional writes on one {@link FileSystemSink} root: a JVM-wide lock per root (file
 * locks are per process) plus an exclusive {@code flock} on a hidden lock file that other
 * processes take too. Works on local file systems; on NFS only where the server honours locks.
 */
final class ConditionalWrites {
  static final String LOCK_FILE = ".conditional-writes.lock.part";
  private static final ConcurrentHashMap<Path, ReentrantLock> IN_JVM = new ConcurrentHashMap<>();

  private ConditionalWrites() {}

  static <T> T locked(Path root, RetryPolicy.IoCall<T> body) throws IOException {
    ReentrantLock jvm = IN_JVM.computeIfAbsent(root, r -> new ReentrantLock());
    jvm.lock();
    try (FileChannel ch = FileChannel.open(root.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock ignored = ch.lock()) {
      return body.call();
    } finally {
      jvm.unlock();
    }
  }
}
