package io.binlogarchive.store;

import io.binlogarchive.store.spi.ForwardingSink;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lease's own logic on a {@link FileSystemSink}. The conditional writes it relies on are part of
 * the sink contract, checked for every sink by binlog-archive-testkit's {@code SinkCompatibilityKit} ("conditional writes"),
 * which also hands a lease over through each sink.
 */
@DisplayName("A store lease")
class StoreLeaseTest {
  @TempDir Path tmp;
  final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  static final String KEY = "prod/db1/lease.json";

  StoreLease lease(Sink sink, String holder, List<String> lost) {
    return StoreLease.builder(sink, KEY).holderId(holder).ttl(Duration.ofSeconds(10)).heartbeat(false)
        .nanoTime(nanos::get).onLost(lost::add).build();
  }

  void advance(Duration d) {
    nanos.addAndGet(d.toNanos());
  }

  @Test
  @DisplayName("is acquired by the first agent; a second one stands by while it is renewed")
  void firstAgentWins() throws Exception {
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("a"));
    List<String> lostA = new ArrayList<>();
    try (StoreLease a = lease(sink, "A", lostA); StoreLease b = lease(sink, "B", new ArrayList<>())) {
      assertThat(a.tryAcquire()).isTrue();
      for (int i = 0; i < 5; i++) {
        assertThat(b.tryAcquire()).isFalse();
        advance(Duration.ofSeconds(4));
        assertThat(a.renew()).isTrue();
      }
      assertThat(b.tryAcquire()).isFalse();
      assertThat(a.isHeld()).isTrue();
      assertThat(b.isHeld()).isFalse();
      assertThat(b.currentHolder()).get().extracting(StoreLease.Holder::holder).isEqualTo("A");
      assertThat(lostA).isEmpty();
    }
  }

  @Test
  @DisplayName("is taken over only after the standby saw it unrenewed for a whole ttl, and the old holder learns it lost")
  void takeOverAfterExpiry() throws Exception {
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("a"));
    List<String> lostA = new ArrayList<>();
    StoreLease a = lease(sink, "A", lostA);
    try (StoreLease b = lease(sink, "B", new ArrayList<>())) {
      assertThat(a.tryAcquire()).isTrue();
      assertThat(b.tryAcquire()).isFalse(); // starts watching the version
      advance(Duration.ofSeconds(9));
      assertThat(b.tryAcquire()).isFalse();
      assertThat(a.isHeld()).isTrue();
      advance(Duration.ofSeconds(1));
      assertThat(a.isHeld()).as("the holder fences itself at its ttl").isFalse();
      assertThat(b.tryAcquire()).isTrue();
      assertThat(b.currentHolder()).get().satisfies(h -> {
        assertThat(h.holder()).isEqualTo("B");
        assertThat(h.generation()).isEqualTo(2);
      });
      assertThat(a.renew()).isFalse();
      assertThat(lostA).singleElement().asString().contains("taken over by B");
      a.close(); // must not delete B's lease
      assertThat(b.currentHolder()).get().extracting(StoreLease.Holder::holder).isEqualTo("B");
    }
  }

  @Test
  @DisplayName("is released on close, so a standby takes it at once")
  void releasedOnClose() throws Exception {
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("a"));
    StoreLease a = lease(sink, "A", new ArrayList<>());
    try (StoreLease b = lease(sink, "B", new ArrayList<>())) {
      assertThat(a.tryAcquire()).isTrue();
      assertThat(b.tryAcquire()).isFalse();
      a.close();
      assertThat(b.tryAcquire()).isTrue();
    }
  }

  @Test
  @Timeout(value = 2, unit = TimeUnit.MINUTES, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a guard only
  @DisplayName("answers tryAcquire and its status from another thread at once while a renewal's store call hangs")
  void hungRenewalBlocksNobody() throws Exception {
    CountDownLatch renewing = new CountDownLatch(1);
    CountDownLatch storeAnswers = new CountDownLatch(1);
    Sink hangsOnReplace = new ForwardingSink(FileSystemSink.of(tmp.resolve("a"))) {
      @Override
      public StoredObject replace(String key, String expectedVersion, byte[] content) throws IOException {
        renewing.countDown();
        try {
          storeAnswers.await();
        } catch (InterruptedException e) {
          throw new InterruptedIOException("interrupted while replacing " + key);
        }
        return super.replace(key, expectedVersion, content);
      }
    };
    List<String> lost = new ArrayList<>();
    try (StoreLease a = lease(hangsOnReplace, "A", lost)) {
      assertThat(a.tryAcquire()).isTrue(); // a create: the replace is not involved
      FutureTask<Boolean> renewal = new FutureTask<>(a::renew);
      Thread heartbeat = new Thread(renewal, "renewal");
      heartbeat.setDaemon(true);
      heartbeat.start();
      renewing.await(); // the renewal is inside its store call, and stays there

      assertThat(a.tryAcquire()).isTrue();
      assertThat(a.isHeld()).isTrue();
      assertThat(a.currentHolder()).get().extracting(StoreLease.Holder::holder).isEqualTo("A");
      advance(Duration.ofSeconds(10)); // the renewal now hangs past the ttl: the holder fences itself
      assertThat(a.isHeld()).isFalse();
      assertThat(a.tryAcquire()).as("answers without waiting for the renewal").isFalse();

      storeAnswers.countDown();
      assertThat(renewal.get()).as("renewed, but too late to count").isFalse();
      assertThat(a.tryAcquire()).as("taken back once the renewal ended").isTrue();
      assertThat(lost).singleElement().asString().contains("not renewed within its ttl");
    }
  }

  @Test
  @DisplayName("two leases built from one builder with the default holder id are two agents: the second stands by")
  void builderReuse() throws Exception {
    FileSystemSink sink = FileSystemSink.of(tmp.resolve("a"));
    StoreLease.Builder b = StoreLease.builder(sink, KEY).ttl(Duration.ofSeconds(10)).heartbeat(false).nanoTime(nanos::get);
    try (StoreLease a = b.build(); StoreLease c = b.build()) {
      assertThat(c.holderId()).isNotEqualTo(a.holderId());
      assertThat(a.tryAcquire()).isTrue();
      assertThat(c.tryAcquire()).isFalse();
      assertThat(a.isHeld()).isTrue();
      assertThat(c.currentHolder()).get().extracting(StoreLease.Holder::holder).isEqualTo(a.holderId());
    }
  }

  @Test
  @DisplayName("cannot be built on a sink without conditional writes")
  void needsConditionalWrites() {
    Sink plain = new ForwardingSink(FileSystemSink.of(tmp.resolve("a"))) {
      @Override
      public boolean supportsConditionalWrites() {
        return false;
      }
    };
    assertThatThrownBy(() -> StoreLease.builder(plain, KEY).build())
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does not support conditional writes");
  }
}
