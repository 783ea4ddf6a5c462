package io.binlogarchive.internal.decode;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

/**
 * Reads a stream on its own thread into a few direct buffers, ahead of the consumer. A fetch runs
 * the store's download and the decryption here, so they overlap the decompression instead of
 * preceding it; for a remote store the network wait overlaps it too.
 *
 * <p>The stream's exceptions reach the consumer unchanged, from {@link #next()}. Memory: a fixed
 * set of buffers, whatever the stream's length.
 */
public final class ReadAhead implements Closeable {
  private static final ByteBuffer END = ByteBuffer.allocate(0);

  private final InputStream in;
  private final BlockingQueue<ByteBuffer> free;
  private final BlockingQueue<ByteBuffer> full;
  private final List<ByteBuffer> owned = new ArrayList<>();
  private final Thread thread;
  private volatile Throwable failure;
  private volatile boolean closed;
  private boolean ended;

  public ReadAhead(InputStream in, int buffers, int bufferSize, String name) {
    this.in = in;
    this.free = new ArrayBlockingQueue<>(buffers);
    this.full = new ArrayBlockingQueue<>(buffers + 1);
    DirectBuffers.takeInto(buffers, bufferSize, owned, free);
    thread = DirectBuffers.startDaemon(this::run, name);
  }

  private void run() {
    byte[] staging = new byte[Math.min(1 << 16, free.peek().capacity())];
    ByteBuffer b = null;
    try {
      while (!closed) {
        b = free.take().clear();
        while (b.hasRemaining()) {
          int n;
          if (in instanceof BufferReadable direct) {
            n = direct.read(b); // straight from the decrypted segment, without the staging copy
          } else {
            n = in.read(staging, 0, Math.min(staging.length, b.remaining()));
            if (n > 0) {
              b.put(staging, 0, n);
            }
          }
          if (n < 0) {
            break;
          }
        }
        boolean ended = b.hasRemaining(); // the stream ended before the buffer was full
        ByteBuffer done = b;
        b = null;
        if (done.position() > 0) {
          full.put(done.flip());
        }
        if (ended) {
          full.put(END);
          return;
        }
      }
    } catch (InterruptedException e) {
      // closed
    } catch (IOException | RuntimeException | Error e) {
      failure = e;
      if (b != null && b.position() > 0) {
        full.offer(b.flip()); // what was read before the failure still goes first
      }
      full.offer(END);
    }
  }

  /**
   * @return the next buffer of bytes (position to limit), or null at the end of the stream; hand it
   *     back with {@link #recycle} once consumed
   * @throws IOException (or a runtime exception) exactly as the stream threw it
   */
  public ByteBuffer next() throws IOException {
    if (ended) {
      return null;
    }
    ByteBuffer b;
    try {
      b = full.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for the read-ahead");
    }
    if (b == END) {
      ended = true;
      Throwable f = failure;
      if (f instanceof IOException io) {
        throw io;
      }
      if (f instanceof RuntimeException re) {
        throw re;
      }
      if (f instanceof Error err) {
        throw err;
      }
      return null;
    }
    return b;
  }

  /** Gives a consumed buffer back for the reader to refill. */
  public void recycle(ByteBuffer b) {
    free.offer(b);
  }

  /**
   * Stops the reader (if it still runs), closes the stream and gives the buffers back to {@link
   * DirectBuffers}; the consumer must not use a buffer from {@link #next()} afterwards.
   */
  @Override
  public void close() throws IOException {
    closed = true;
    thread.interrupt();
    try {
      in.close(); // also unblocks a reader waiting on a socket
    } finally {
      DirectBuffers.giveBackAfter(thread, owned);
    }
  }
}
