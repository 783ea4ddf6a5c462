package io.binlogarchive.testing;

import io.binlogarchive.internal.ArchiveLayout;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.store.spi.ForwardingSink;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** Counts store calls by kind ({@code create:artifact}, {@code create:other}, {@code stat}, {@code open}, ...). */
public final class CountingSink extends ForwardingSink {
  private final ConcurrentHashMap<String, LongAdder> counts = new ConcurrentHashMap<>();

  public CountingSink(Sink delegate) {
    super(delegate);
  }

  private void record(String what) {
    counts.computeIfAbsent(what, k -> new LongAdder()).increment();
  }

  public long count(String what) {
    LongAdder a = counts.get(what);
    return a == null ? 0 : a.sum();
  }

  /** @return every call except artifact uploads */
  public long callsBeyondUploads() {
    return counts.entrySet().stream().filter(e -> !e.getKey().equals("create:artifact"))
        .mapToLong(e -> e.getValue().sum()).sum();
  }

  public Map<String, Long> snapshot() {
    Map<String, Long> m = new java.util.TreeMap<>();
    counts.forEach((k, v) -> m.put(k, v.sum()));
    return m;
  }

  @Override
  public SinkWriter create(String key, Map<String, String> metadata) throws IOException {
    record(key.endsWith(ArchiveLayout.SIDECAR_SUFFIX) || !key.contains("/binlog/") ? "create:other" : "create:artifact");
    return super.create(key, metadata);
  }

  @Override
  public Optional<StoredObject> stat(String key) throws IOException {
    record("stat");
    return super.stat(key);
  }

  @Override
  public InputStream open(String key, long offset) throws IOException {
    record("open");
    return super.open(key, offset);
  }

  @Override
  public List<StoredObject> list(String prefix) throws IOException {
    record("list");
    return super.list(prefix);
  }

  @Override
  public void delete(String key) throws IOException {
    record("delete");
    super.delete(key);
  }
}
