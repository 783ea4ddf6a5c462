package io.binlogarchive.s3;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.restore.ArchiveProblem;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.restore.FetchResult;
import io.binlogarchive.restore.RestoreFixture;
import io.binlogarchive.restore.RestorePlan;
import io.binlogarchive.restore.RestoreTarget;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.restore.VerifyOptions;
import io.binlogarchive.restore.VerifyReport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;

@DisplayName("Restore from S3 (s3proxy), zstd + AES-256-GCM")
class S3RestoreTest {
  @RegisterExtension static final S3ProxyServer s3 = new S3ProxyServer();
  @TempDir Path tmp;

  @Test
  @DisplayName("verifies the archived chain in full, fetches a GTID plan byte for byte, and names a deleted artifact")
  void restoreFromS3() throws Exception {
    ExecutorService parts = Executors.newFixedThreadPool(2);
    try (S3Client client = S3ProxyServer.client(s3.endpoint(), Duration.ofSeconds(60))) {
      S3Sink sink = S3Sink.builder().client(client).bucket(s3.newBucket()).prefix("archive").executor(parts)
          .retryPolicy(RetryPolicy.none()).build();
      Path binlogs = RestoreFixture.archiveChain(sink, tmp, 13);
      ArchiveReader reader = RestoreFixture.reader(sink);
      VerifyReport full = reader.verify(VerifyOptions.defaults().withFull());
      assertThat(full.problems()).isEmpty();
      assertThat(full.filesChecked()).isEqualTo(12);
      assertThat(full.windows()).hasSize(1);

      RestorePlan plan = reader.planFrom("mysql-bin.000002", 4, RestoreTarget.gtid("0-3-2000"));
      FetchResult f = reader.fetch(plan, tmp.resolve("restore"));
      assertThat(f.fetched()).isEqualTo(plan.files().size()).isGreaterThan(1);
      assertThat(f.plan().stopPosition()).isGreaterThan(4);
      RestoreFixture.assertOriginals(f, binlogs);

      String victim = plan.files().get(1).artifact().key();
      sink.delete(victim);
      VerifyReport after = reader.verify(VerifyOptions.defaults());
      assertThat(after.problems()).extracting(ArchiveProblem::kind, ArchiveProblem::objectKey)
          .containsExactly(org.assertj.core.api.Assertions.tuple(ArchiveProblem.Kind.MISSING_ARTIFACT, victim));
      assertThat(after.windows()).hasSize(2);
    } finally {
      parts.shutdownNow();
    }
  }
}
