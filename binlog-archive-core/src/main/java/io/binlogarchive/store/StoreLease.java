package io.binlogarchive.store;

import io.binlogarchive.Archiver;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.internal.ArchiveLayout;
import io.binlogarchive.internal.Json;
import io.binlogarchive.store.spi.PreconditionFailedException;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-writer lease kept as a small JSON object in the archive's own store, so that of several
 * agents started for one server (on different hosts, for high availability) exactly one archives at
 * a time. Pass it to {@link Archiver.Builder#lease(StoreLease)}: an archiver that does not hold it
 * stands by, and one that loses it stops before its next file.
 *
 * <ul>
 *   <li><b>Acquire</b> by conditional create (the sink's never-overwrite commit).
 *   <li><b>Renew</b> by {@link Sink#replace(String, String, byte[]) conditional replace} on the
 *       version last written, every {@code renewInterval}, on a heartbeat thread.
 *   <li><b>Take over</b> only after expiry: a standby watches the lease object's version and
 *       replaces it (conditionally) once it has seen the same version, unrenewed, for a whole
 *       {@code ttl} on its own monotonic clock. No wall clocks are compared across hosts, so clock
 *       skew does not matter.
 *   <li><b>Self-fence</b>: the holder counts itself as holding only until {@code ttl} after the
 *       start of its last successful renewal, which is never later than a standby may take over.
 *   <li><b>Release</b> on {@link #close()} by conditional delete, so a standby takes over at once.
 * </ul>
 *
 * <p>The lease prevents duplicate work, not corruption: even two writers at once (a holder frozen
 * past its expiry) cannot damage the archive, because every archive object is created
 * never-overwrite and a conflicting sidecar is a reported chain break.
 *
 * <p>The sink must {@link Sink#supportsConditionalWrites() support conditional writes}.
 *
 * <p>(For maintainers: one class of about 530 lines because it is one state machine: not held,
 * held, lost, released. Acquire, renew, take-over, self-fencing, the heartbeat thread and release
 * all read and move the same state (the version last written, the generation, the start of the last
 * renewal) under one lock; split apart, each part would need the others' state. The rest is the
 * public {@link Holder} record and the {@link Builder}, about 120 lines of documented setters.)
 */
public final class StoreLease implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StoreLease.class);

  /**
   * The lease document.
   *
   * @param holder the holder's id
   * @param generation incremented on every acquisition or take-over
   * @param acquiredAt when this holder acquired it (holder's clock, informational)
   * @param renewedAt when it was last renewed (holder's clock, informational)
   * @param ttlMillis the holder's time to live
   * @param writeId a random id, new on every write of the document, so that no two writes store the
   *     same bytes: on S3 an object's version is its ETag, a hash of its content, so a renewal that
   *     wrote the same bytes as the last one would not change the version a standby watches (and
   *     an old version could come back); {@code null} in documents of earlier releases
   */
  public record Holder(
      @JsonProperty("holder") String holder,
      @JsonProperty("generation") long generation,
      @JsonProperty("acquired_at") Instant acquiredAt,
      @JsonProperty("renewed_at") Instant renewedAt,
      @JsonProperty("ttl_ms") long ttlMillis,
      @JsonProperty("write_id") String writeId) {}

  private final Sink sink;
  private final String key;
  private final String holderId;
  private final Duration ttl;
  private final Duration renewInterval;
  private final boolean heartbeat;
  private final Clock clock;
  private final LongSupplier nanoTime;
  private final Consumer<String> onLost;
  private final Object heartbeatMonitor = new Object();
  /**
   * Held for every store call of this lease and the state it reads and updates, so renewal,
   * acquisition and release never interleave. Nobody waits for it who must not: {@link
   * #tryAcquire()} only tries it, and {@link #isHeld()} and {@link #currentHolder()} never take it.
   */
  private final ReentrantLock storeCalls = new ReentrantLock();

  // guarded by storeCalls
  private String version;
  private long generation;
  private Instant acquiredAt;
  private String observedVersion;
  private long observedSince;
  // guarded by this (never held across a store call)
  private Thread heartbeatThread;
  private volatile boolean closed;
  // written under storeCalls, read without it by isHeld()
  private volatile boolean held;
  private volatile long fenceDeadline;

  private StoreLease(Builder b, String holderId) {
    this.sink = b.sink;
    this.key = b.key;
    this.holderId = holderId;
    this.ttl = b.ttl;
    this.renewInterval = b.renewInterval != null ? b.renewInterval : ttl.dividedBy(3);
    this.heartbeat = b.heartbeat;
    this.clock = b.clock;
    this.nanoTime = b.nanoTime;
    this.onLost = b.onLost;
  }

  /**
   * @param sink the store the archive lives in (must support conditional writes)
   * @param key the lease object's key, e.g. {@code prod/db1/lease.json}
   * @return a builder
   */
  public static Builder builder(Sink sink, String key) {
    return new Builder(sink, key);
  }

  /**
   * The conventional key of a server archive's lease: {@code <prefix>/<server-id>/lease.json}.
   *
   * @param prefix the archive prefix ({@code ""} for none)
   * @param serverId the archive's server id
   * @return the key
   */
  public static String keyFor(String prefix, String serverId) {
    return new ArchiveLayout(prefix, serverId).root() + "/lease.json";
  }

  /** @return this agent's holder id */
  public String holderId() {
    return holderId;
  }

  /** @return the lease object's key */
  public String key() {
    return key;
  }

  /**
   * @return whether this agent holds the lease now: acquired, not lost to another agent, and renewed
   *     recently enough that no standby may have taken over yet
   */
  public boolean isHeld() {
    return held && nanoTime.getAsLong() - fenceDeadline < 0;
  }

  /**
   * Acquires the lease if it is free, released, or expired (seen unrenewed for a whole ttl); returns
   * at once either way. Call it periodically while standing by: the expiry is measured between
   * calls. It never waits for another call of this lease that is talking to the store (a renewal
   * on the heartbeat thread, say): while one is, it answers {@link #isHeld()} without a store call.
   *
   * @return whether this agent holds the lease after the call
   * @throws IOException if the store cannot be reached
   * @throws IllegalStateException if closed
   */
  public boolean tryAcquire() throws IOException {
    if (closed) {
      throw new IllegalStateException("lease " + key + " is closed");
    }
    if (isHeld()) {
      return true;
    }
    if (!storeCalls.tryLock()) {
      return isHeld(); // a renewal or release is under way: its outcome decides, the next call looks again
    }
    try {
      return acquire();
    } finally {
      storeCalls.unlock();
    }
  }

  private boolean acquire() throws IOException {
    if (closed) {
      throw new IllegalStateException("lease " + key + " is closed");
    }
    if (isHeld()) {
      return true;
    }
    if (held) {
      lost("not renewed within its ttl of " + ttl.toMillis() + " ms (store unreachable?); standing by");
    }
    Optional<StoredObject> st = sink.stat(key);
    long start = nanoTime.getAsLong();
    if (st.isEmpty()) {
      Instant now = clock.instant();
      try (SinkWriter w = sink.create(key, Map.of("lease-holder", holderId))) {
        w.write(document(1, now, now));
        StoredObject o = w.commit();
        becomeHolder(o.version(), 1, now, start, "acquired");
        return true;
      } catch (ObjectExistsException e) {
        return false;
      }
    }
    StoredObject current = st.get();
    Holder h;
    try {
      h = read();
    } catch (NotFoundException e) {
      return false; // released between stat and read: the next call creates it
    }
    boolean mine = h.holder().equals(holderId);
    if (!mine) {
      if (!Objects.equals(current.version(), observedVersion)) {
        observedVersion = current.version();
        observedSince = start;
        return false;
      }
      if (start - observedSince < ttl.toNanos()) {
        return false;
      }
    }
    Instant now = clock.instant();
    try {
      StoredObject o = sink.replace(key, current.version(), document(h.generation() + 1, now, now));
      becomeHolder(o.version(), h.generation() + 1, now, start,
          mine ? "taken back (same holder id)" : "taken over from " + h.holder() + " after it expired");
      return true;
    } catch (PreconditionFailedException e) {
      observedVersion = null;
      return false;
    }
  }

  /**
   * Renews the lease now (the heartbeat thread does this every {@code renewInterval}).
   *
   * @return whether the lease is still held
   * @throws IOException if the store cannot be reached (the lease stays held until its ttl runs out)
   */
  public boolean renew() throws IOException {
    storeCalls.lock();
    try {
      return renew(true);
    } finally {
      storeCalls.unlock();
    }
  }

  private boolean renew(boolean mayAdopt) throws IOException {
    if (!held) {
      return false;
    }
    long start = nanoTime.getAsLong();
    try {
      StoredObject o = sink.replace(key, version, document(generation, acquiredAt, clock.instant()));
      version = o.version();
      fenceDeadline = start + ttl.toNanos();
      return isHeld();
    } catch (PreconditionFailedException e) {
      // the replace may have succeeded before an earlier error hid its outcome: check the document
      try {
        Optional<StoredObject> st = sink.stat(key);
        Holder h = read();
        if (mayAdopt && st.isPresent() && h.holder().equals(holderId) && h.generation() == generation) {
          version = st.get().version();
          return renew(false);
        }
        lost("taken over by " + h.holder() + " (generation " + h.generation() + ")");
      } catch (NotFoundException gone) {
        lost("the lease object was deleted");
      }
      return false;
    } catch (IOException | RuntimeException e) {
      if (!isHeld()) {
        lost("not renewed within its ttl (" + e.getMessage() + ")");
      }
      throw e;
    }
  }

  /**
   * @return the current lease document, or empty if nobody holds it
   * @throws IOException if the store cannot be read
   */
  public Optional<Holder> currentHolder() throws IOException {
    try {
      return Optional.of(read());
    } catch (NotFoundException e) {
      return Optional.empty();
    }
  }

  /** Stops the heartbeat and releases the lease (conditional delete) if held; idempotent. */
  @Override
  public void close() throws IOException {
    Thread t;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      t = heartbeatThread;
    }
    if (t != null) {
      synchronized (heartbeatMonitor) {
        heartbeatMonitor.notifyAll();
      }
      t.interrupt();
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    storeCalls.lock();
    try {
      if (held) {
        held = false;
        try {
          sink.delete(key, version);
          LOG.atInfo().addKeyValue("lease_holder", holderId).log("released lease {}", key);
        } catch (PreconditionFailedException e) {
          LOG.info("lease {} was no longer ours on release: {}", key, e.getMessage());
        }
      }
    } finally {
      storeCalls.unlock();
    }
  }

  private void becomeHolder(String v, long gen, Instant at, long startNanos, String how) {
    version = Objects.requireNonNull(v, () -> sink.describe() + " returned no object version");
    generation = gen;
    acquiredAt = at;
    fenceDeadline = startNanos + ttl.toNanos();
    held = true;
    observedVersion = null;
    LOG.atInfo()
        .addKeyValue("lease_holder", holderId)
        .addKeyValue("lease_generation", gen)
        .log("lease {} {}: this agent ({}) archives now", key, how, holderId);
    synchronized (this) {
      if (heartbeat && heartbeatThread == null && !closed) {
        Thread t = new Thread(this::heartbeatLoop, "binlog-archive-lease");
        t.setDaemon(true);
        heartbeatThread = t;
        t.start();
      }
    }
  }

  private void lost(String why) {
    if (!held) {
      return;
    }
    held = false;
    LOG.atWarn().addKeyValue("lease_holder", holderId).log("lease {} lost: {}", key, why);
    try {
      onLost.accept(why);
    } catch (RuntimeException e) {
      LOG.warn("lease onLost callback failed: {}", e.toString());
    }
  }

  private void heartbeatLoop() {
    while (true) {
      synchronized (heartbeatMonitor) {
        try {
          heartbeatMonitor.wait(Math.max(1, renewInterval.toMillis()));
        } catch (InterruptedException e) {
          return;
        }
      }
      if (closed) {
        return;
      }
      try {
        if (held) {
          renew();
        }
      } catch (IOException | RuntimeException e) {
        LOG.warn("lease {} renewal failed: {}", key, e.toString());
      }
    }
  }

  private Holder read() throws IOException {
    try (InputStream in = sink.open(key)) {
      return Json.MAPPER.readValue(in.readNBytes(64 << 10), Holder.class);
    } catch (com.fasterxml.jackson.core.JacksonException e) {
      throw new IntegrityException("lease object " + key + " in " + sink.describe() + " is not a lease document: "
          + e.getOriginalMessage());
    }
  }

  private byte[] document(long gen, Instant acquired, Instant renewed) throws IOException {
    return Json.MAPPER.writeValueAsBytes(
        new Holder(holderId, gen, acquired, renewed, ttl.toMillis(), java.util.UUID.randomUUID().toString()));
  }

  @Override
  public String toString() {
    return "StoreLease[" + key + " in " + sink.describe() + ", holder " + holderId + ", ttl " + ttl + "]";
  }

  /** Builds a {@link StoreLease}. */
  public static final class Builder {
    private static final java.util.concurrent.atomic.AtomicLong BUILT = new java.util.concurrent.atomic.AtomicLong();
    private final Sink sink;
    private final String key;
    private String holderId;
    private Duration ttl = Duration.ofSeconds(60);
    private Duration renewInterval;
    private boolean heartbeat = true;
    private Clock clock = Clock.systemUTC();
    private LongSupplier nanoTime = System::nanoTime;
    private Consumer<String> onLost = why -> {};

    private Builder(Sink sink, String key) {
      this.sink = Objects.requireNonNull(sink, "sink");
      this.key = Objects.requireNonNull(key, "key");
    }

    /**
     * @param id unique per agent (default {@code <hostname>/<pid>/<n>}, {@code n} counting the leases
     *     this process built, so that two leases never share a default id); an agent restarted with
     *     the same id takes its lease back at once, and so do two leases given the same id
     * @return this builder
     */
    public Builder holderId(String id) {
      if (Objects.requireNonNull(id, "holderId").isBlank()) {
        throw new IllegalArgumentException("holderId must not be blank");
      }
      this.holderId = id;
      return this;
    }

    /**
     * @param ttl how long a lease stays valid without renewal (default 60 s); a standby waits this long
     *     before taking over
     * @return this builder
     */
    public Builder ttl(Duration ttl) {
      Objects.requireNonNull(ttl, "ttl");
      if (ttl.toMillis() < 100) {
        throw new IllegalArgumentException("ttl must be at least 100 ms, got " + ttl);
      }
      this.ttl = ttl;
      return this;
    }

    /**
     * @param interval how often the holder renews (default ttl / 3)
     * @return this builder
     */
    public Builder renewInterval(Duration interval) {
      this.renewInterval = Objects.requireNonNull(interval, "renewInterval");
      return this;
    }

    /**
     * @param on whether a heartbeat thread renews the lease (default true; tests call {@link #renew()})
     * @return this builder
     */
    public Builder heartbeat(boolean on) {
      this.heartbeat = on;
      return this;
    }

    /**
     * @param clock the clock for the document's informational times
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * @param nanoTime the monotonic clock that measures expiry (default {@link System#nanoTime()})
     * @return this builder
     */
    public Builder nanoTime(LongSupplier nanoTime) {
      this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
      return this;
    }

    /**
     * @param onLost told (once per loss) why the lease was lost; must not block
     * @return this builder
     */
    public Builder onLost(Consumer<String> onLost) {
      this.onLost = Objects.requireNonNull(onLost, "onLost");
      return this;
    }

    /**
     * @return the lease (not yet acquired)
     * @throws IllegalArgumentException if the sink has no conditional writes or the renew interval
     *     is not below the ttl
     */
    public StoreLease build() {
      StringBuilder problems = new StringBuilder();
      if (!sink.supportsConditionalWrites()) {
        problems.append(sink.describe()).append(" does not support conditional writes, which a lease needs; ");
      }
      if (renewInterval != null && (renewInterval.isNegative() || renewInterval.isZero()
          || renewInterval.compareTo(ttl) >= 0)) {
        problems.append("renewInterval ").append(renewInterval).append(" must be positive and below ttl ").append(ttl)
            .append("; ");
      }
      if (problems.length() > 0) {
        throw new IllegalArgumentException("invalid lease settings: " + problems.substring(0, problems.length() - 2));
      }
      return new StoreLease(this, holderId != null ? holderId : defaultHolderId() + "/" + BUILT.incrementAndGet());
    }

    private static String defaultHolderId() {
      String host;
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (IOException e) {
        host = "unknown-host";
      }
      return host + "/" + ManagementFactory.getRuntimeMXBean().getPid();
    }
  }
}
