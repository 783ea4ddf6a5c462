package io.binlogarchive.replication.live;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.replication.internal.BinlogEvents;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams a server's binlog over the replication protocol into a local spool directory that holds
 * the server's files rebuilt byte for byte, with a {@code <basename>.index} as the server keeps it, so
 * {@link BinlogSource#directory(Path)} on the spool archives each file once it is closed.
 *
 * <pre>{@code
 * SourceConfig source = SourceConfig.builder("db.example", 3306, "repl")
 *     .password(() -> secrets.replicationPassword()).tls(TlsMode.VERIFY_IDENTITY).build();
 * try (LiveStream stream = LiveStream.builder(source, Path.of("/var/lib/binlog-spool"))
 *     .listener(myListener).build()) {
 *   stream.run(); // until stop() from another thread
 * }
 * }</pre>
 *
 * <p>After a lost connection or a restart of the stream or of the server, it reconnects with backoff
 * and resumes exactly at the last transaction boundary in the spool: a partial transaction at the
 * end of the open file is truncated, and the server sends the rest, so there is no gap and no
 * duplicate. If the server purged what is needed, the gap is reported through {@link
 * SpoolListener#gap} (or thrown, see {@link Builder#stopOnGap}) and streaming goes on from the oldest
 * binlog the server still has.
 *
 * <p>With {@link SourceConfig#semiSync()} and a source that has semi-sync enabled, a transaction is
 * acknowledged only once the spool made it durable. When no acknowledgement comes within the
 * source's {@code rpl_semi_sync_master_timeout}, the source falls back to asynchronous replication:
 * commits then return without waiting, and an acknowledged-commit guarantee no longer holds until
 * the replica catches up.
 *
 * <p>Every {@link Builder#serverPositionInterval interval} a second small connection reads the
 * server's binlogs and their sizes: {@link #lagBytes()} and {@link SpoolListener#serverPosition}
 * give the bytes between the server's position and the spool's durable one, across files.
 */
public final class LiveStream implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LiveStream.class);
  private static final int ER_MASTER_FATAL_ERROR_READING_BINLOG = 1236;

  private final SourceConfig source;
  private final Path spoolDir;
  private final FsyncPolicy fsync;
  private final SpoolListener listener;
  private final String startFile;
  private final boolean stopOnGap;
  private final boolean manualAcks;
  private final Duration minDelay;
  private final Duration maxDelay;
  private final Duration positionInterval;
  private final Object lock = new Object();
  private volatile boolean stopping;
  private volatile ReplicationClient client;
  private volatile BinlogSpool spool;
  private volatile long connections;
  private volatile ServerPositionProbe probe;

  private LiveStream(Builder b) {
    this.source = b.source;
    this.spoolDir = b.spoolDir;
    this.fsync = b.fsync;
    this.listener = b.listener;
    this.startFile = b.startFile;
    this.stopOnGap = b.stopOnGap;
    this.manualAcks = b.manualAcks;
    this.minDelay = b.minDelay;
    this.maxDelay = b.maxDelay;
    this.positionInterval = b.positionInterval;
  }

  /**
   * The closed files of a spool this stream writes, as a source for an {@code Archiver}: a file
   * counts as closed once the server has rotated past it and the spool holds it whole; the active
   * file is read from the spool too when the archiver rotates by age.
   *
   * @param spoolDir the directory given to {@link #builder(SourceConfig, Path)}
   * @return a source listing nothing until the stream has written the spool's index
   */
  public static io.binlogarchive.binlog.BinlogSource spoolSource(Path spoolDir) {
    return new SpoolSource(spoolDir);
  }

  /**
   * @param source the server to stream from
   * @param spoolDir where the server's files are rebuilt (one directory per server)
   * @return a builder
   */
  public static Builder builder(SourceConfig source, Path spoolDir) {
    return new Builder(source, spoolDir);
  }

  /** @return the spool directory */
  public Path spoolDirectory() {
    return spoolDir;
  }

  /** @return the last durable transaction boundary, or null before the first one */
  public SpoolPosition durablePosition() {
    BinlogSpool s = spool;
    return s == null ? null : s.durablePosition();
  }

  /**
   * @return bytes the server has written past the spool's durable position, across files, as the
   *     last measurement of the server's position found (see {@link Builder#serverPositionInterval});
   *     -1 if unknown (not measured yet, measuring disabled, or the account lacks REPLICATION CLIENT)
   */
  public long lagBytes() {
    ServerPositionProbe p = probe;
    return p == null ? -1 : p.spoolLag();
  }

  /** @return how many connections were established so far (a reconnect counts one more) */
  public long connections() {
    return connections;
  }

  /**
   * Streams until {@link #stop()}: connects, resumes where the spool ends and writes events as they
   * come; reconnects after network errors and server restarts.
   *
   * @throws ServerErrorException when the server refuses what only an administrator can change (bad
   *     credentials, a missing privilege such as REPLICATION SLAVE or REPLICATION CLIENT, a locked account,
   *     binary logging off, a command it does not know), at the first connection or later; not retried, the
   *     message names the server, the user and what to change
   * @throws IncompatibleSourceException when this stream's own settings cannot work with the server (a TLS
   *     mode it does not offer, an authentication plugin this client does not speak, a certificate that fails
   *     verification); not retried
   * @throws BinlogGapException on a gap, if built with {@link Builder#stopOnGap}
   * @throws IOException if the spool cannot be opened, or the stream contradicts it (an event that does not
   *     continue the spool's file, another server's files in the spool); not retried. Network errors and
   *     server restarts are retried, and so are disk errors while writing (after truncating to the last
   *     boundary).
   */
  public void run() throws IOException {
    try (BinlogSpool s = BinlogSpool.open(spoolDir, fsync, listener)) {
      spool = s;
      if (!positionInterval.isZero() && !stopping) {
        ServerPositionProbe p = new ServerPositionProbe(source, positionInterval, listener, s::durablePosition);
        probe = p;
        p.start();
      }
      log.info("streaming binlogs of {} into {} (fsync {}), resuming at {}", source, spoolDir, fsync,
          s.resumeFile() == null ? "the start" : s.resumeFile() + ":" + s.resumePosition());
      String restartAt = null;
      int failures = 0;
      while (!stopping) {
        String file = null;
        long pos = 4;
        boolean gotEvent = false;
        try (ReplicationClient c = ReplicationClient.connect(source)) {
          client = c;
          if (stopping) {
            break;
          }
          connections++;
          c.prepareReplication();
          if (source.semiSync() && !c.semiSyncActive()) {
            log.warn("{} has no semi-synchronous replication; streaming asynchronously", source);
          } else if (source.semiSync() && !c.semiSyncOnSource()) {
            log.info("{} has rpl_semi_sync_master_enabled off for now; acknowledging once it asks", source);
          }
          s.streamChecksum(c.checksumCrc32());
          if (restartAt != null) {
            file = restartAt;
          } else if (s.resumeFile() == null) {
            file = startFile != null ? startFile : oldest(c);
          } else {
            file = s.resumeFile();
            pos = s.resumePosition();
          }
          c.registerReplica();
          c.dump(file, pos);
          String context = "binlog stream of " + source.host() + ":" + source.port();
          while (!stopping) {
            ReplicationClient.Received r = c.next(context);
            if (r == null) {
              throw new IOException(context + " ended (EOF from the server)");
            }
            if (r.needsAck && log.isDebugEnabled()) {
              log.debug("the source waits for an acknowledgement of the event ending at {}",
                  BinlogEvents.logPos(r.payload, r.offset));
            }
            s.accept(r.payload, r.offset, r.length(), r.needsAck);
            if (!gotEvent) {
              gotEvent = true;
              failures = 0;
            }
            if (restartAt != null && restartAt.equals(s.resumeFile())) {
              restartAt = null;
            }
            Object[] ack = s.takeAck();
            if (ack != null) {
              if (manualAcks) {
                SpoolPosition d = s.durablePosition();
                SpoolPosition waiting = new SpoolPosition((String) ack[0], (Long) ack[1], d.gtid(), d.eventTime());
                try {
                  listener.sourceWaiting(waiting);
                } catch (RuntimeException e) {
                  log.warn("spool listener failed on sourceWaiting({}): {}", waiting, e.toString());
                }
              } else {
                c.ack((String) ack[0], (Long) ack[1]);
                log.debug("acknowledged {}:{}", ack[0], ack[1]);
              }
            }
          }
        } catch (ServerErrorException e) {
          if (stopping) {
            break;
          }
          if (e.errorCode() == ER_MASTER_FATAL_ERROR_READING_BINLOG && !gotEvent && file != null) {
            String resume;
            try {
              resume = purgedResume(e, s, file, pos);
            } catch (IOException listing) {
              if (listing instanceof ServerErrorException && ServerErrors.fatal(((ServerErrorException) listing).errorCode())) {
                throw ServerErrors.explain((ServerErrorException) listing, source);
              }
              if (stopping) {
                break;
              }
              failures = backoff(listing, s, failures);
              continue;
            }
            if (resume != null) {
              restartAt = resume;
              continue;
            }
          }
          if (ServerErrors.fatal(e.errorCode())) {
            ServerErrorException fatal = ServerErrors.explain(e, source);
            log.error("{}", fatal.getMessage());
            throw fatal;
          }
          failures = backoff(e, s, failures);
        } catch (StreamMismatchException e) {
          throw e;
        } catch (IncompatibleSourceException e) {
          if (stopping) {
            break;
          }
          log.error("binlog stream from {} cannot go on (not retried): {}", source, e.getMessage());
          throw e;
        } catch (IOException e) {
          if (stopping) {
            break;
          }
          failures = backoff(e, s, failures);
        } finally {
          client = null;
        }
      }
    } finally {
      ServerPositionProbe p = probe;
      if (p != null) {
        p.close();
        probe = null;
      }
      spool = null;
    }
  }

  private int backoff(IOException e, BinlogSpool s, int failures) throws IOException {
    s.rewind();
    long delay = Math.min(maxDelay.toMillis(), minDelay.toMillis() << Math.min(failures, 20));
    log.warn("binlog stream from {} interrupted ({}); reconnecting in {} ms at {}:{}", source, e.getMessage(), delay,
        s.resumeFile(), s.resumePosition());
    synchronized (lock) {
      long end = System.nanoTime() + delay * 1_000_000L;
      long left;
      while (!stopping && (left = end - System.nanoTime()) > 0) {
        try {
          lock.wait(Math.max(1, left / 1_000_000L));
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          stopping = true;
        }
      }
    }
    return failures + 1;
  }

  /**
   * After error 1236 at the start of a dump: if the server purged the file asked for, returns the
   * oldest file it has (reporting a gap unless nothing is missing); null if the file is still there.
   */
  private String purgedResume(ServerErrorException e, BinlogSpool s, String file, long pos) throws IOException {
    List<String[]> logs;
    try (ReplicationClient c = ReplicationClient.connect(source)) {
      logs = c.query("SHOW BINARY LOGS");
    }
    if (logs.isEmpty()) {
      return null;
    }
    for (String[] row : logs) {
      if (row[0].equals(file)) {
        return null;
      }
    }
    String oldest = logs.get(0)[0];
    boolean nothingMissing = s.currentFileClosed() && file.equals(s.resumeFile())
        && sequence(oldest) == sequence(file) + 1;
    if (!nothingMissing) {
      BinlogGapException gap = new BinlogGapException(file, pos, oldest, e.getMessage());
      log.error("{}", gap.getMessage());
      s.gap(gap);
      if (stopOnGap) {
        throw gap;
      }
    }
    return oldest;
  }

  private static long sequence(String name) {
    try {
      return Long.parseLong(name.substring(name.lastIndexOf('.') + 1));
    } catch (RuntimeException e) {
      return -1;
    }
  }

  private static String oldest(ReplicationClient c) throws IOException {
    List<String[]> logs = c.query("SHOW BINARY LOGS");
    if (logs.isEmpty()) {
      throw new IOException("the server lists no binary logs; is log_bin on?");
    }
    return logs.get(0)[0];
  }

  /**
   * Acknowledges {@code position} to a semi-synchronous source, for a stream built with {@link
   * Builder#acknowledgeManually}. Thread-safe. Does nothing when not connected or not semi-sync: after a
   * reconnect the source no longer waits for acknowledgements of the old connection.
   *
   * @param position a position the spool reported as durable
   * @throws IOException if the acknowledgement cannot be sent (the stream reconnects by itself)
   */
  public void acknowledge(SpoolPosition position) throws IOException {
    ReplicationClient c = client;
    if (c != null && c.semiSyncActive()) {
      c.ack(position.file(), position.endOffset());
    }
  }

  /** @return heartbeats received so far in this run (never written to the spool) */
  long heartbeats() {
    BinlogSpool s = spool;
    return s == null ? 0 : s.heartbeats();
  }

  /** Closes the current connection from this side, as a network cut would; the stream reconnects. */
  void dropConnection() throws IOException {
    ReplicationClient c = client;
    if (c != null) {
      c.close();
    }
  }

  /** Asks {@link #run()} to return: closes the connection and wakes a pending reconnect. Thread-safe. */
  public void stop() {
    stopping = true;
    ReplicationClient c = client;
    if (c != null) {
      try {
        c.close();
      } catch (IOException e) {
        log.debug("closing the replication connection: {}", e.toString());
      }
    }
    synchronized (lock) {
      lock.notifyAll();
    }
  }

  /** Same as {@link #stop()}. */
  @Override
  public void close() {
    stop();
  }

  /** Settings of a {@link LiveStream}. */
  public static final class Builder {
    private final SourceConfig source;
    private final Path spoolDir;
    private FsyncPolicy fsync = FsyncPolicy.perTransaction();
    private SpoolListener listener = new SpoolListener() {};
    private String startFile;
    private boolean stopOnGap;
    private boolean manualAcks;
    private Duration minDelay = Duration.ofMillis(100);
    private Duration maxDelay = Duration.ofSeconds(10);
    private Duration positionInterval = Duration.ofSeconds(5);

    private Builder(SourceConfig source, Path spoolDir) {
      this.source = Objects.requireNonNull(source, "source");
      this.spoolDir = Objects.requireNonNull(spoolDir, "spoolDir");
    }

    /**
     * @param policy when the spool fsyncs (default per transaction)
     * @return this
     */
    public Builder fsync(FsyncPolicy policy) {
      this.fsync = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * @param listener told about durable transactions, closed files and gaps
     * @return this
     */
    public Builder listener(SpoolListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * @param file for an empty spool, the binlog to start with (from its beginning); default: the
     *     oldest the server lists. Ignored once the spool holds files.
     * @return this
     */
    public Builder startFile(String file) {
      this.startFile = file;
      return this;
    }

    /**
     * @param stop throw {@link BinlogGapException} from {@link #run()} on a gap instead of reporting it
     *     and going on (default false)
     * @return this
     */
    public Builder stopOnGap(boolean stop) {
      this.stopOnGap = stop;
      return this;
    }

    /**
     * @param manual with semi-sync, do not acknowledge when the spool made a transaction durable, but
     *     call {@link SpoolListener#sourceWaiting} and let the owner call {@link LiveStream#acknowledge}
     *     (default false: the spool's durability is enough)
     * @return this
     */
    public Builder acknowledgeManually(boolean manual) {
      this.manualAcks = manual;
      return this;
    }

    /**
     * @param min first delay before a reconnect (doubles per failure)
     * @param max longest delay
     * @return this
     */
    public Builder reconnectDelay(Duration min, Duration max) {
      if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
        throw new IllegalArgumentException("reconnect delays must be positive with min <= max, got " + min + ", " + max);
      }
      this.minDelay = min;
      this.maxDelay = max;
      return this;
    }

    /**
     * @param interval how often the server's position is measured for the lag ({@code SHOW BINARY
     *     LOGS} on a second connection with the same settings, which needs REPLICATION CLIENT: without
     *     it the lag is reported unknown and the stream goes on); default 5 s, {@link Duration#ZERO}
     *     to never measure. See {@link SpoolListener#serverPosition} and {@link LiveStream#lagBytes()}.
     * @return this
     */
    public Builder serverPositionInterval(Duration interval) {
      if (interval.isNegative() || (!interval.isZero() && interval.compareTo(Duration.ofMillis(10)) < 0)) {
        throw new IllegalArgumentException("server position interval must be zero (off) or at least 10 ms, got "
            + interval);
      }
      this.positionInterval = interval;
      return this;
    }

    /** @return the stream, not yet running */
    public LiveStream build() {
      return new LiveStream(this);
    }
  }
}
