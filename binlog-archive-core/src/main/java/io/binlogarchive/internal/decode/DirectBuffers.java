package io.binlogarchive.internal.decode;

import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A small JVM-wide pool of direct buffers for the decode path. Direct memory is released only when
 * the garbage collector notices its buffer is unreachable, which a quiet heap may not do for a
 * long time: a {@code verify --full} over thousands of files would otherwise lean on the JDK's
 * emergency {@code System.gc()} (disabled by {@code -XX:+DisableExplicitGC}) to stay under
 * {@code -XX:MaxDirectMemorySize}. Buffers given back are kept up to {@link #RETAINED} bytes.
 */
public final class DirectBuffers {
  public static final long RETAINED = 16L << 20;
  /** How long a stage's close waits for its thread before leaving its buffers to the garbage collector. */
  public static final long JOIN_MILLIS = 30_000;

  /** By capacity. Queues, not sets: a ByteBuffer's equals compares contents, never identity. */
  private static final ConcurrentMap<Integer, ConcurrentLinkedQueue<ByteBuffer>> FREE = new ConcurrentHashMap<>();
  private static final AtomicLong RETAINED_BYTES = new AtomicLong();

  private DirectBuffers() {}

  /** @return a cleared direct buffer of exactly {@code size} bytes of capacity */
  static ByteBuffer take(int size) {
    ConcurrentLinkedQueue<ByteBuffer> q = FREE.get(size);
    ByteBuffer b = q == null ? null : q.poll();
    if (b != null) {
      RETAINED_BYTES.addAndGet(-size);
      return b.clear();
    }
    return ByteBuffer.allocateDirect(size);
  }

  /** Gives a buffer back; the caller must not use it afterwards. */
  static void give(ByteBuffer b) {
    if (b == null || !b.isDirect() || b.capacity() == 0) {
      return;
    }
    if (RETAINED_BYTES.addAndGet(b.capacity()) <= RETAINED) {
      FREE.computeIfAbsent(b.capacity(), c -> new ConcurrentLinkedQueue<>()).add(b);
    } else {
      RETAINED_BYTES.addAndGet(-b.capacity());
    }
  }

  /**
   * Takes {@code n} buffers of {@code size} bytes for a stage of the decode: each goes to the
   * stage's {@code owned} list (to give back at the end) and its {@code free} queue.
   */
  static void takeInto(int n, int size, java.util.List<ByteBuffer> owned, java.util.Queue<ByteBuffer> free) {
    for (int i = 0; i < n; i++) {
      ByteBuffer b = take(size);
      owned.add(b);
      free.add(b);
    }
  }

  /** Starts a stage's daemon thread. */
  static Thread startDaemon(Runnable body, String name) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /**
   * Waits (at most {@link #JOIN_MILLIS}) for a stage's thread to end, then gives its buffers
   * back; a thread that does not end keeps them, for the garbage collector.
   */
  static void giveBackAfter(Thread t, java.util.List<ByteBuffer> owned) {
    try {
      t.join(JOIN_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!t.isAlive()) {
      owned.forEach(DirectBuffers::give);
      owned.clear();
    }
  }

  /** For tests: the bytes held by the pool now. */
  public static long retainedBytes() {
    return RETAINED_BYTES.get();
  }
}
