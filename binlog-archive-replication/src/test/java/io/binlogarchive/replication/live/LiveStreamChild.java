package io.binlogarchive.replication.live;

import java.nio.file.Path;

/**
 * Runs a {@link LiveStream} in its own JVM, for tests that kill it with SIGKILL. Arguments: port,
 * spool directory; the password comes from {@code BINLOG_ARCHIVE_SOURCE_PASSWORD} (never argv).
 */
public final class LiveStreamChild {
  private LiveStreamChild() {}

  public static void main(String[] args) throws Exception {
    SourceConfig source = SourceConfig.builder("127.0.0.1", Integer.parseInt(args[0]), LiveFixture.USER)
        .password(() -> System.getenv("BINLOG_ARCHIVE_SOURCE_PASSWORD").toCharArray()).tls(TlsMode.DISABLED)
        .replicaServerId(78).build();
    LiveStream.builder(source, Path.of(args[1])).fsync(FsyncPolicy.perTransaction())
        .reconnectDelay(java.time.Duration.ofMillis(50), java.time.Duration.ofMillis(500)).build().run();
  }
}
