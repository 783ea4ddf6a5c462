package io.binlogarchive.internal.decode;

import io.binlogarchive.internal.Digests;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.security.MessageDigest;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * The second half of a decode, on its own thread: hands each plaintext chunk to the consumer (the
 * file being fetched) and hashes it with SHA-256, while the producer decrypts and decompresses the
 * next chunk. On two cores this splits a fetch into two halves of about equal cost (decompression
 * on one side; writing and hashing on the other) instead of running them one after the other.
 *
 * <p>Memory: a fixed set of direct buffers, whatever the file's size; the producer blocks when all
 * are in use. They are direct so the producer decompresses into them and a {@code FileChannel}
 * writes them without the JDK copying them out of the heap first.
 */
public final class PlaintextWorker implements AutoCloseable {
  private static final ByteBuffer END = ByteBuffer.allocate(0);

  private final MessageDigest digest = Digests.sha256();
  private final ArtifactDecoder.Consumer consumer;
  private final BlockingQueue<ByteBuffer> free;
  private final BlockingQueue<ByteBuffer> work;
  private final List<ByteBuffer> owned = new ArrayList<>();
  private final Thread thread;
  private volatile Throwable failure;
  private boolean finished;

  /** @param consumer receives every chunk in order on the worker thread; null to only hash */
  PlaintextWorker(int buffers, int bufferSize, String name, ArtifactDecoder.Consumer consumer) {
    this.consumer = consumer;
    free = new ArrayBlockingQueue<>(buffers + 1);
    work = new ArrayBlockingQueue<>(buffers + 1);
    DirectBuffers.takeInto(buffers, bufferSize, owned, free);
    thread = DirectBuffers.startDaemon(this::run, name);
  }

  private void run() {
    try {
      while (true) {
        ByteBuffer c = work.take();
        if (c == END) {
          return;
        }
        if (consumer != null) {
          consumer.accept(c.duplicate());
        }
        digest.update(c);
        free.put(c);
      }
    } catch (InterruptedException e) {
      // closed early
    } catch (IOException | RuntimeException | Error e) {
      failure = e;
      free.offer(ByteBuffer.allocate(0)); // wake a waiting producer
    }
  }

  /** @return a cleared buffer to fill (blocks until the worker has released one) */
  ByteBuffer take() throws IOException {
    check();
    try {
      ByteBuffer b = free.take();
      check();
      return b.clear();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for the plaintext worker");
    }
  }

  /** Hands a filled buffer (its bytes from position to limit) to the worker; the caller must not touch it again. */
  void submit(ByteBuffer buffer) throws IOException {
    check();
    try {
      work.put(buffer);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while feeding the plaintext worker");
    }
  }

  /** Gives an unused buffer back. */
  void release(ByteBuffer buffer) {
    free.offer(buffer);
  }

  /**
   * Waits until the worker has handed over and hashed everything submitted.
   *
   * @return the SHA-256 of everything submitted
   * @throws IOException the consumer's own exception if it failed
   */
  byte[] finish() throws IOException {
    submit(END);
    try {
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for the plaintext worker");
    }
    finished = true;
    check();
    return digest.digest();
  }

  /** Rethrows the worker's failure: the consumer's IOException as it is, anything else wrapped. */
  private void check() throws IOException {
    Throwable f = failure;
    if (f == null) {
      return;
    }
    if (f instanceof IOException io) {
      throw io;
    }
    if (f instanceof Error err) {
      throw err;
    }
    throw new IOException("the plaintext worker failed: " + f, f);
  }

  /**
   * Stops the worker if {@link #finish()} did not run (a failed decode), waits for it, and gives
   * the buffers back to {@link DirectBuffers}.
   */
  @Override
  public void close() {
    if (!finished) {
      thread.interrupt();
    }
    DirectBuffers.giveBackAfter(thread, owned);
  }
}
