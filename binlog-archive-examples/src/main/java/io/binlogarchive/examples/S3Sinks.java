package io.binlogarchive.examples;

import io.binlogarchive.Sink;

/** Builds the S3 sink from command-line settings. */
final class S3Sinks {
  private S3Sinks() {}

  static Sink open(String bucket, Args args) {
    throw new Args.UsageException("s3:// targets are not available in this build yet");
  }
}
