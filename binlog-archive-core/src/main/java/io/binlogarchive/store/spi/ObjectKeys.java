package io.binlogarchive.store.spi;

import java.util.Objects;

/**
 * Validation of bucket names, key prefixes and object keys shared by the object-store sinks
 * ({@code S3Sink}, {@code GcsSink}), so every store accepts and rejects the same keys.
 *
 * <p>A sink stores object {@code key} under {@code prefix + key}: the prefix is empty or ends with
 * {@code /}; a key is a relative path that neither starts nor ends with {@code /}.
 */
public final class ObjectKeys {
  private ObjectKeys() {}

  /**
   * Checks a bucket name given to a sink builder: not blank, no {@code /}, not a URL.
   *
   * @param bucket the bucket name
   * @param scheme the store's URL scheme ({@code s3}, {@code gs}), for the message
   * @return {@code bucket}
   * @throws IllegalArgumentException if it is not a plain bucket name
   */
  public static String bucket(String bucket, String scheme) {
    Objects.requireNonNull(bucket, "bucket");
    if (bucket.isBlank() || bucket.contains("/") || bucket.startsWith(scheme + ":")) {
      throw new IllegalArgumentException(
          "bucket must be a bucket name such as 'my-bucket' (not a " + scheme + ":// URL), got '" + bucket + "'");
    }
    return bucket;
  }

  /**
   * Normalises a key prefix: leading {@code /} removed, a trailing {@code /} added unless empty.
   *
   * @param prefix e.g. {@code "prod/binlogs"}; {@code ""} for the bucket root
   * @return {@code ""} or the prefix ending with {@code /}
   * @throws IllegalArgumentException if the prefix has an empty path segment ({@code a//b})
   */
  public static String prefix(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    String p = prefix;
    while (p.startsWith("/")) {
      p = p.substring(1);
    }
    if (p.contains("//")) {
      throw new IllegalArgumentException("prefix '" + prefix + "' contains an empty path segment");
    }
    return p.isEmpty() || p.endsWith("/") ? p : p + "/";
  }

  /**
   * Joins a normalised prefix and an object key, checking the key.
   *
   * @param prefix a prefix from {@link #prefix(String)}
   * @param key the object key: not empty, not starting or ending with {@code /}
   * @return {@code prefix + key}
   * @throws IllegalArgumentException if the key is not a relative object path
   */
  public static String join(String prefix, String key) {
    Objects.requireNonNull(key, "key");
    if (key.isEmpty() || key.startsWith("/") || key.endsWith("/")) {
      throw new IllegalArgumentException("invalid object key '" + key + "': empty, or starting or ending with '/'");
    }
    return prefix + key;
  }
}
