package io.binlogarchive;

import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.StoreLease;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A standalone agent holding a {@link StoreLease}, for the hand-over test to start in a child JVM
 * and kill -9. Args: binlogDir archiveDir cursorFile holderId ttlMillis bytesPerSecond renewIntervalMillis.
 */
public final class LeaseAgentMain {
  private LeaseAgentMain() {}

  public static void main(String[] args) throws Exception {
    FileSystemSink sink = FileSystemSink.of(Path.of(args[1]));
    StoreLease lease = StoreLease.builder(sink, StoreLease.keyFor("", "db1")).holderId(args[3])
        .ttl(Duration.ofMillis(Long.parseLong(args[4]))).renewInterval(Duration.ofMillis(Long.parseLong(args[6])))
        .build();
    Archiver a = Archiver.builder()
        .source(BinlogSource.directory(Path.of(args[0])))
        .sink(sink)
        .serverId("db1")
        .cursorFile(Path.of(args[2]))
        .pollInterval(Duration.ofMillis(200))
        .maxUploadBytesPerSecond(Long.parseLong(args[5]))
        .lease(lease)
        .build();
    a.start();
    System.out.println("started");
    System.out.flush();
    Thread.currentThread().join(); // runs until killed
  }
}
