package io.binlogarchive.internal.pipeline;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Passes bytes on at most as fast as a shared {@link TokenBucket} allows, in slices of at most 64
 * KiB so waits stay short and fair between files. {@link #close()} only flushes: the sink writer
 * beneath is ended by commit or abort, never by the stream chain.
 */
public final class ThrottledOutputStream extends FilterOutputStream {
  private static final int SLICE = 64 << 10;
  private final TokenBucket bucket;

  public ThrottledOutputStream(OutputStream out, TokenBucket bucket) {
    super(out);
    this.bucket = bucket;
  }

  static OutputStream wrap(OutputStream out, TokenBucket bucket) {
    return bucket == null ? out : new ThrottledOutputStream(out, bucket);
  }

  @Override
  public void write(int b) throws IOException {
    bucket.take(1);
    out.write(b);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    while (len > 0) {
      int n = Math.min(len, SLICE);
      bucket.take(n);
      out.write(b, off, n);
      off += n;
      len -= n;
    }
  }

  @Override
  public void close() throws IOException {
    out.flush();
  }
}
