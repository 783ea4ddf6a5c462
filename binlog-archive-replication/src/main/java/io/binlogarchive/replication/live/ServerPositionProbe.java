package io.binlogarchive.replication.live;

import io.binlogarchive.internal.binlog.BinlogNames;
import java.io.IOException;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures where the server is, every interval, on a second small connection with the stream's own
 * settings: {@code SHOW BINARY LOGS} (which needs REPLICATION CLIENT, BINLOG MONITOR on MariaDB
 * 10.5+). Tells the listener the server's binlogs and how many bytes the spool is behind; when the
 * position cannot be read it says so and tries again next interval, never stopping the stream.
 */
final class ServerPositionProbe implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ServerPositionProbe.class);
  private static final long INFO_EVERY_NANOS = 60_000_000_000L;

  private final SourceConfig source;
  private final Duration interval;
  private final SpoolListener listener;
  private final Supplier<SpoolPosition> durable;
  private final Object lock = new Object();
  private boolean stopping;
  private Thread thread;
  private volatile ReplicationClient client;
  private volatile long spoolLag = -1;
  private String problem;
  private long lastInfo = System.nanoTime() - INFO_EVERY_NANOS;

  ServerPositionProbe(SourceConfig source, Duration interval, SpoolListener listener, Supplier<SpoolPosition> durable) {
    this.source = source;
    this.interval = interval;
    this.listener = listener;
    this.durable = durable;
  }

  /** @return bytes the server has written past the spool's durable position, as last measured; -1 if unknown */
  long spoolLag() {
    return spoolLag;
  }

  void start() {
    thread = new Thread(this::loop, "binlog-archive-server-position");
    thread.setDaemon(true);
    thread.start();
  }

  private void loop() {
    while (true) {
      measure();
      synchronized (lock) {
        long end = System.nanoTime() + interval.toNanos();
        long left;
        while (!stopping && (left = end - System.nanoTime()) > 0) {
          try {
            lock.wait(Math.max(1, left / 1_000_000L));
          } catch (InterruptedException e) {
            return;
          }
        }
        if (stopping) {
          return;
        }
      }
    }
  }

  /** One measurement: the server's binlogs, then the listener. */
  void measure() {
    Map<String, Long> binlogs = new LinkedHashMap<>();
    try {
      ReplicationClient c = client;
      if (c == null) {
        c = ReplicationClient.connect(source);
        client = c;
      }
      List<String[]> rows = c.query("SHOW BINARY LOGS");
      for (String[] row : rows) {
        binlogs.put(row[0], Long.parseLong(row[1]));
      }
    } catch (ServerErrorException e) {
      if (!ServerErrors.fatal(e.errorCode())) {
        closeClient();
      }
      unknown(e.errorCode() == 1227 || e.errorCode() == 1045
          ? e.getMessage() + "; grant REPLICATION CLIENT ON *.* TO '" + source.user()
              + "' (BINLOG MONITOR on MariaDB 10.5+) to measure the lag"
          : e.getMessage());
      return;
    } catch (IOException | RuntimeException e) {
      closeClient();
      unknown("cannot read the position of " + source.host() + ":" + source.port() + ": " + e.getMessage());
      return;
    }
    if (binlogs.isEmpty()) {
      unknown(source.host() + ":" + source.port() + " lists no binary logs");
      return;
    }
    SpoolPosition d = durable.get();
    long lag = d == null ? BinlogNames.bytesAfter(binlogs, -1, 0)
        : BinlogNames.bytesAfter(binlogs, BinlogNames.sequence(d.file()), d.endOffset());
    spoolLag = lag;
    if (problem != null) {
      log.info("the position of {} can be read again", source);
      problem = null;
    }
    String end = null;
    for (Map.Entry<String, Long> e : binlogs.entrySet()) {
      end = e.getKey() + ":" + e.getValue();
    }
    if (System.nanoTime() - lastInfo >= INFO_EVERY_NANOS) {
      lastInfo = System.nanoTime();
      log.info("server at {}, spool durable at {}: {} byte(s) behind", end,
          d == null ? "(nothing yet)" : d.file() + ":" + d.endOffset(), lag);
    } else {
      log.debug("server at {}, spool {} byte(s) behind", end, lag);
    }
    try {
      listener.serverPosition(Collections.unmodifiableMap(binlogs), lag);
    } catch (RuntimeException e) {
      log.warn("spool listener failed on serverPosition: {}", e.toString());
    }
  }

  private void unknown(String why) {
    spoolLag = -1;
    if (!why.equals(problem)) {
      log.warn("the lag behind {} is unknown for now (the stream goes on): {}", source, why);
      problem = why;
    }
    try {
      listener.serverPositionUnknown(why);
    } catch (RuntimeException e) {
      log.warn("spool listener failed on serverPositionUnknown: {}", e.toString());
    }
  }

  private void closeClient() {
    ReplicationClient c = client;
    client = null;
    if (c != null) {
      try {
        c.close();
      } catch (IOException e) {
        log.debug("closing the position probe's connection: {}", e.toString());
      }
    }
  }

  /** Stops the probe and closes its connection. */
  @Override
  public void close() {
    synchronized (lock) {
      stopping = true;
      lock.notifyAll();
    }
    closeClient();
    Thread t = thread;
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    closeClient(); // a connection the probe opened while stopping
  }
}
