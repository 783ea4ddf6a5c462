package io.binlogarchive.internal.agent;

import io.binlogarchive.binlog.BinlogSource;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wakes a started archiver when the binlog directory changes (a rotation rewrites the index and
 * creates a file), so it need not wait for the next poll. Polling stays the fallback: where the
 * file system gives no events (NFS, some containers) nothing is lost, only latency.
 */
public final class DirectoryWatch implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DirectoryWatch.class);
  private static final DirectoryWatch NONE = new DirectoryWatch(null, null);
  private final WatchService service;
  private final Thread thread;

  private DirectoryWatch(WatchService service, Thread thread) {
    this.service = service;
    this.thread = thread;
  }

  public static DirectoryWatch start(BinlogSource source, Runnable onChange) {
    Path dir = source.localDirectory().orElse(null);
    if (dir == null) {
      return NONE;
    }
    WatchService ws;
    try {
      ws = FileSystems.getDefault().newWatchService();
      dir.register(ws, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
    } catch (IOException | UnsupportedOperationException e) {
      LOG.info("no file-system watch on {} ({}); polling only", dir, e.toString());
      return NONE;
    }
    Thread t = new Thread(() -> {
      try {
        while (true) {
          WatchKey key = ws.take();
          key.pollEvents();
          onChange.run();
          if (!key.reset()) {
            return;
          }
        }
      } catch (InterruptedException | ClosedWatchServiceException e) {
        // closed: the archiver is stopping
      }
    }, "binlog-archive-watch");
    t.setDaemon(true);
    t.start();
    return new DirectoryWatch(ws, t);
  }

  @Override
  public void close() {
    if (service != null) {
      try {
        service.close();
      } catch (IOException ignored) {
        // nothing to release beyond the service itself
      }
      thread.interrupt();
    }
  }
}
