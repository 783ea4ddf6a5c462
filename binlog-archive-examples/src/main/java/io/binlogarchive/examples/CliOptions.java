package io.binlogarchive.examples;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * Option sets several commands share, as picocli mixins and groups. Values stay plain (strings and
 * boxed numbers, null when absent) and the commands check them, so every error keeps its own
 * message (a range, a flag that goes with another) and nothing of the cloud SDKs loads here.
 */
final class CliOptions {
  private CliOptions() {}

  /**
   * Marks an option group whose members exclude each other: the help shows it as {@code [a | b]}.
   * The commands check the exclusion themselves, so each error says what goes with what.
   */
  interface OneOf {}

  /** Every command: logging, statistics and help ({@link Main#main} reads the first three early). */
  static final class Global {
    @Option(names = "--verbose", description = "library logs at INFO")
    boolean verbose;

    @Option(names = "--log-format", paramLabel = "text|json",
        description = "json: library logs as one JSON object per line on stdout")
    String logFormat;

    @Option(names = "--stats", description = "peak heap and CPU time on stderr at exit")
    boolean stats;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "this help")
    boolean help;
  }

  /** Where a store is and how to reach it. */
  static final class Store {
    @Option(names = "--endpoint", paramLabel = "URL", description = "an S3-compatible store or a GCS test server")
    String endpoint;

    @Option(names = "--region", paramLabel = "R", description = "AWS region (S3, AWS KMS)")
    String region;

    @Option(names = "--allow-insecure-endpoint",
        description = "allow a plain http:// endpoint that is not a loopback address")
    boolean allowInsecureEndpoint;

    StoreSettings settings() {
      return settings(null, null);
    }

    StoreSettings settings(String gcsKmsKeyName, String sseKmsKeyId) {
      return new StoreSettings(endpoint, region, allowInsecureEndpoint, gcsKmsKeyName, sseKmsKeyId);
    }
  }

  /**
   * KEY: a key file, a Cloud KMS key or an AWS KMS key, one of them. {@code archive} documents the
   * file as {@code --encrypt-key-file}, the read side as {@code --key-file}; both names work for both.
   */
  static final class Key implements CliOptions.OneOf {
    @ArgGroup(exclusive = false, validate = false)
    File file;

    @ArgGroup(exclusive = false, validate = false)
    Gcp gcp;

    @Option(names = "--kms-key-id", paramLabel = "ARN", description = "AWS KMS key (ARN, id or alias)")
    String awsKmsKeyId;

    static final class File {
      @Option(names = {"--key-file", "--encrypt-key-file"}, required = true, paramLabel = "F",
          description = "32 raw bytes or their base64 text")
      String path;

      @Option(names = "--key-id", paramLabel = "ID", description = "the key's id (default: the file name less its extension)")
      String id;
    }

    static final class Gcp {
      @Option(names = "--gcp-kms-key", required = true, paramLabel = "NAME",
          description = "Cloud KMS CryptoKey projects/P/locations/L/keyRings/R/cryptoKeys/K")
      String name;

      @Option(names = "--gcp-kms-endpoint", paramLabel = "URL", description = "Cloud KMS endpoint (an emulator or test server)")
      String endpoint;
    }

    /** @return {@code k}, or an empty choice when no KEY option was given */
    static Key of(Key k) {
      return k == null ? new Key() : k;
    }

    String filePath() {
      return file == null ? null : file.path;
    }

    String fileKeyId() {
      return file == null ? null : file.id;
    }

    String gcpName() {
      return gcp == null ? null : gcp.name;
    }

    String gcpEndpoint() {
      return gcp == null ? null : gcp.endpoint;
    }
  }

  /** An int option's value, checked against its range; {@code fallback} when absent. */
  static int range(String name, Integer value, int fallback, int min, int max) {
    if (value == null) {
      return fallback;
    }
    if (value < min || value > max) {
      throw new UsageException(name + " must be " + min + ".." + max + ", got " + value);
    }
    return value;
  }
}
