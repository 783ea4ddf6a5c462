package io.binlogarchive.store.spi;

import io.binlogarchive.IntegrityException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * A read stream of an object-store sink that turns the client library's errors (often unchecked)
 * into the stream path's {@link IOException}s, in one place per store: {@code read}, {@code skip}
 * and {@code available} pass every {@link IOException} and {@link RuntimeException} of the wrapped
 * stream through {@link #translate(Exception)}.
 */
public abstract class TranslatingInputStream extends FilterInputStream {

  /** @param in the client's response stream, closed by {@link #close()} */
  protected TranslatingInputStream(InputStream in) {
    super(in);
  }

  /**
   * Maps an error of the wrapped stream. May instead throw an unchecked library error (e.g. {@link
   * IntegrityException}) that must not be mistaken for an I/O failure.
   *
   * @param e what the wrapped stream threw
   * @return the error to throw
   */
  protected abstract IOException translate(Exception e);

  @Override
  public int read() throws IOException {
    try {
      return super.read();
    } catch (IOException | RuntimeException e) {
      throw translate(e);
    }
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    try {
      return super.read(b, off, len);
    } catch (IOException | RuntimeException e) {
      throw translate(e);
    }
  }

  @Override
  public long skip(long n) throws IOException {
    try {
      return super.skip(n);
    } catch (IOException | RuntimeException e) {
      throw translate(e);
    }
  }

  @Override
  public int available() throws IOException {
    try {
      return super.available();
    } catch (IOException | RuntimeException e) {
      throw translate(e);
    }
  }
}
