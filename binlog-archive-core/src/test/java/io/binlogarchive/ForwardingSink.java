package io.binlogarchive;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A sink that passes every call on; tests override what they count or break. Conditional writes are not forwarded. */
public class ForwardingSink implements Sink {
  protected final Sink delegate;

  public ForwardingSink(Sink delegate) {
    this.delegate = delegate;
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
  public String describe() {
    return delegate.describe();
  }
}
