package io.binlogarchive.store.spi;

import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoredObject;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link Sink} that passes every call to another one: the base for decorators (counting,
 * throttling, fault injection, owning extra resources). Subclasses override what they intercept.
 * Everything is forwarded, conditional writes and {@link #close()} included.
 */
public class ForwardingSink implements Sink {
  /** The sink calls go to. */
  protected final Sink delegate;

  /** @param delegate the sink calls go to */
  public ForwardingSink(Sink delegate) {
    this.delegate = java.util.Objects.requireNonNull(delegate, "delegate");
  }

  @Override
  public SinkWriter create(String key, Map<String, String> metadata) throws IOException {
    return delegate.create(key, metadata);
  }

  @Override
  public Optional<StoredObject> stat(String key) throws IOException {
    return delegate.stat(key);
  }

  @Override
  public InputStream open(String key, long offset) throws IOException {
    return delegate.open(key, offset);
  }

  @Override
  public List<StoredObject> list(String prefix) throws IOException {
    return delegate.list(prefix);
  }

  @Override
  public void delete(String key) throws IOException {
    delegate.delete(key);
  }

  @Override
  public boolean supportsConditionalWrites() {
    return delegate.supportsConditionalWrites();
  }

  @Override
  public int removeStaleParts(String prefix, java.time.Duration olderThan) throws IOException {
    return delegate.removeStaleParts(prefix, olderThan);
  }

  @Override
  public StoredObject replace(String key, String expectedVersion, byte[] content) throws IOException {
    return delegate.replace(key, expectedVersion, content);
  }

  @Override
  public void delete(String key, String expectedVersion) throws IOException {
    delegate.delete(key, expectedVersion);
  }

  @Override
  public long bufferedBytesPerUpload() {
    return delegate.bufferedBytesPerUpload();
  }

  @Override
  public String describe() {
    return delegate.describe();
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + delegate + "]";
  }
}
