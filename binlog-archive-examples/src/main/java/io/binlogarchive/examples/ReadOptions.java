package io.binlogarchive.examples;

import io.binlogarchive.restore.ArchiveCatalog;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.crypto.KeyProvider;
import java.io.IOException;
import java.util.List;
import java.util.function.Function;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * What every read-side command takes (the archive, the server, the store and the KEY, as a picocli
 * mixin), and how such a command opens the archive it names.
 */
final class ReadOptions {
  @Option(names = "--from", required = true, paramLabel = "URI", description = "the archive")
  String from;

  @Option(names = "--server-id", paramLabel = "ID", description = "the server (default: the archive's only one)")
  String serverId;

  @Option(names = "--parallelism", paramLabel = "N", description = "downloads in flight (1..64, default 2)")
  Integer parallelism;

  @ArgGroup(exclusive = true, validate = false, heading = "KEY (to read encrypted artifacts):%n")
  CliOptions.Key key;

  @Mixin CliOptions.Store store;

  /** The archive a command reads, and what to close after: the sink and any KMS client. */
  record Opened(Targets.Target target, ArchiveReader reader, String serverId, AutoCloseable kms)
      implements AutoCloseable {
    @Override
    public void close() throws IOException {
      try {
        target.sink().close();
      } finally {
        if (kms != null) {
          try {
            kms.close();
          } catch (Exception e) {
            // a KMS client that fails to close loses nothing
          }
        }
      }
    }
  }

  /**
   * Opens the archive {@code --from} names, with the key the options give: {@code --key-file},
   * {@code --gcp-kms-key}, or {@code --kms-key-id} (AWS KMS: credentials and region as for S3, the
   * endpoint from the SDK's {@code AWS_ENDPOINT_URL_KMS} / {@code aws.endpointUrlKms}, as {@code
   * archive} does).
   *
   * @param listener told of each file fetched or verified
   */
  static Opened open(ReadOptions r, boolean sync, boolean allowUnencrypted, ArchiveReader.Listener listener,
      Function<String, String> env) throws IOException {
    CliOptions.Key k = CliOptions.Key.of(r.key);
    KeyProvider keys = Keys.fromOptions(k, "--key-file", r.store.allowInsecureEndpoint, env);
    Targets.Target target = Targets.open(r.from, r.store.settings());
    AutoCloseable kms = null;
    try {
      if (k.awsKmsKeyId != null) {
        S3Sinks.Kms aws = S3Sinks.kms(k.awsKmsKeyId, r.store.settings());
        kms = aws;
        keys = aws.keys();
      }
      String serverId = serverId(r.serverId, target);
      ArchiveReader.Builder b = ArchiveReader.builder().sink(target.sink()).prefix(target.prefix()).serverId(serverId)
          .parallelism(CliOptions.range("--parallelism", r.parallelism, 2, 1, 64))
          .syncFetchedFiles(sync)
          .allowUnencrypted(allowUnencrypted)
          .listener(listener);
      if (keys != null) {
        b.keyProvider(keys);
      }
      return new Opened(target, b.build(), serverId, kms);
    } catch (IOException | RuntimeException e) {
      try {
        new Opened(target, null, null, kms).close();
      } catch (IOException | RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** {@code --server-id}, else the archive's only server ("default" for an empty archive). */
  static String serverId(String given, Targets.Target target) throws IOException {
    if (given != null) {
      return given;
    }
    List<String> ids = ArchiveCatalog.serverIds(target.sink(), target.prefix());
    if (ids.size() > 1) {
      throw new UsageException("the archive holds several servers " + ids + "; choose one with --server-id");
    }
    return ids.isEmpty() ? "default" : ids.get(0);
  }
}
