package io.binlogarchive.examples;

import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;

/** Turns {@code file:///PATH}, {@code s3://bucket/prefix} and {@code gs://bucket/prefix} into sinks. */
final class Targets {
  private Targets() {}

  /** A sink plus the key prefix inside it. */
  record Target(Sink sink, String prefix, String uri) {}

  static Target open(String uri, StoreSettings settings) {
    URI u;
    try {
      u = new URI(uri);
    } catch (URISyntaxException e) {
      throw new UsageException("not a valid URI: " + uri);
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme();
    switch (scheme) {
      case "file" -> {
        if (u.getPath() == null || u.getPath().isEmpty()) {
          throw new UsageException("file URI needs an absolute path: file:///PATH, got " + uri);
        }
        return new Target(FileSystemSink.of(Path.of(u.getPath())), "", uri);
      }
      case "s3", "gs" -> {
        if (u.getHost() == null || u.getHost().isEmpty()) {
          throw new UsageException(scheme + " URI needs a bucket: " + scheme + "://bucket/prefix, got " + uri);
        }
        String prefix = u.getPath() == null ? "" : u.getPath();
        return new Target(CloudSinks.open(scheme, u.getHost(), settings), prefix, uri);
      }
      default -> throw new UsageException("unsupported target " + uri + " (use file:///PATH, s3://bucket/prefix or gs://bucket/prefix)");
    }
  }
}
