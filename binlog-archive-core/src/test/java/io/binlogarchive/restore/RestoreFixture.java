package io.binlogarchive.restore;

import io.binlogarchive.Archiver;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.binlog.BinlogSource;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.crypto.StaticKeyProvider;
import io.binlogarchive.store.Sink;
import io.binlogarchive.testing.Fixtures;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * An encrypted archive of the fixture chain in any sink, for the restore tests of the store modules:
 * server id {@code db1}, zstd + AES-256-GCM under {@link #keys()}.
 */
public final class RestoreFixture {
  private RestoreFixture() {}

  /** @return the static key ({@code k1}) the archive is encrypted under; the same on every call */
  public static KeyProvider keys() {
    byte[] key = new byte[32];
    new Random(3).nextBytes(key);
    return StaticKeyProvider.builder().key("k1", key).primary("k1").build();
  }

  /**
   * Archives the first {@code count} files of the fixture chain (all but the last are closed, so
   * {@code count - 1} are archived) into {@code sink}.
   *
   * @param sink the store under test
   * @param work a scratch directory for the binlog copies and the cursor
   * @param count files of the chain, 2 to 13
   * @return the directory holding the original binlogs
   */
  public static Path archiveChain(Sink sink, Path work, int count) throws Exception {
    Path binlogs = Fixtures.copyChain(work.resolve("binlogs"), count);
    try (Archiver a = Archiver.builder().source(BinlogSource.indexFile(binlogs.resolve("mysql-bin.index"))).sink(sink)
        .serverId("db1").cursorFile(work.resolve("cursor.json")).compression(Transform.zstd(3))
        .encryption(Transform.aesGcm(keys())).retryPolicy(RetryPolicy.none()).parallelism(2).build()) {
      assertThat(a.runOnce().failure()).isNull();
    }
    return binlogs;
  }

  /** @return a reader of the archive {@link #archiveChain} wrote, with its key */
  public static ArchiveReader reader(Sink sink) {
    return ArchiveReader.builder().sink(sink).serverId("db1").keyProvider(keys()).retryPolicy(RetryPolicy.none())
        .build();
  }

  /** Asserts every fetched file equals the original binlog of its name, byte for byte. */
  public static void assertOriginals(FetchResult fetched, Path binlogs) throws IOException {
    assertThat(fetched.files()).isNotEmpty();
    for (Path p : fetched.files()) {
      assertThat(Files.mismatch(p, binlogs.resolve(p.getFileName().toString()))).as(p.toString()).isEqualTo(-1L);
    }
  }
}
