package io.binlogarchive.restore;

import static io.binlogarchive.restore.ReadWorkers.await;
import static io.binlogarchive.restore.ReadWorkers.joinWorkers;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.GtidSet;
import io.binlogarchive.internal.BackgroundFlusher;
import io.binlogarchive.internal.Digests;
import io.binlogarchive.internal.FsSync;
import io.binlogarchive.internal.binlog.BinlogNames;
import io.binlogarchive.internal.binlog.GtidState;
import io.binlogarchive.internal.binlog.GtidStopFinder;
import io.binlogarchive.internal.decode.ArtifactDecoder;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@link ArchiveReader#fetch(RestorePlan, Path)} does (its Javadoc is the contract): checks the
 * plan's files and the free space, downloads and decodes the missing ones in parallel into
 * exclusive temporary files, renames each into place once its SHA-256 is proven, and resolves a
 * GTID target's stop position. Holds the reader's settings; as immutable and thread-safe as it.
 */
final class ArchiveFetch extends ReaderTask {
  /** The reader's logger, so log configuration that names it keeps working. */
  private static final Logger LOG = LoggerFactory.getLogger(ArchiveReader.class);

  private final RetryPolicy retryPolicy;
  private final ArchiveReader.UsableSpace usableSpace;
  private final boolean syncFetchedFiles;

  ArchiveFetch(ArchiveReader reader) {
    super(reader);
    this.retryPolicy = reader.retryPolicy;
    this.usableSpace = reader.usableSpace;
    this.syncFetchedFiles = reader.syncFetchedFiles;
  }

  FetchResult fetch(RestorePlan plan, Path directory) throws IOException {
    long t0 = System.nanoTime();
    LocalFiles.createPrivateDirectories(directory);
    List<Path> paths = new ArrayList<>();
    List<Sidecar> todo = new ArrayList<>();
    int reused = 0;
    long need = 0;
    for (Sidecar s : plan.files()) {
      if (!BinlogNames.isPlainFileName(s.file())) {
        throw new IntegrityException("sidecar of " + s.artifact().key() + " names an unsafe file '" + s.file() + "'");
      }
      for (Sidecar part : s.segment() == null ? List.of(s) : plan.segmentsOf(s.file())) {
        if (refusesUnencrypted(part)) {
          throw ArtifactDecoder.unencrypted(part); // before anything is downloaded or written
        }
        decoders(part); // an unknown codec fails before anything is downloaded or written
      }
      Path p = directory.resolve(s.file());
      LocalFiles.requireNoLink(p);
      paths.add(p);
      long t1 = System.nanoTime();
      if (alreadyFetched(p, s, plan.segmentsOf(s.file()))) {
        reused++;
        listener.fileFetched(s, p, true, Duration.ofNanos(System.nanoTime() - t1));
      } else {
        todo.add(s);
        need += s.size();
      }
    }
    int swept = LocalFiles.sweepTemps(directory, todo.stream().map(Sidecar::file).collect(Collectors.toSet()));
    if (swept > 0) {
      LOG.atInfo().log("deleted {} temporary file(s) an interrupted fetch left in {}", swept, directory);
    }
    long usable = usableSpace.of(directory);
    if (need > usable) {
      throw new ArchiveException("not enough free space in " + directory + ": the restore needs " + need
          + " bytes for " + todo.size() + " binlog(s) but only " + usable + " bytes are usable there;"
          + " free some space or fetch to another directory");
    }
    long[] counts = new long[2];
    AtomicBoolean failed = new AtomicBoolean();
    AtomicReference<Throwable> firstFailure = new AtomicReference<>();
    ExecutorService pool = pool("binlog-archive-fetch");
    try {
      List<Future<ArtifactDecoder.Result>> futures = new ArrayList<>();
      for (Sidecar s : todo) {
        futures.add(pool.submit(() -> {
          try {
            return fetchOne(s, plan.segmentsOf(s.file()), directory, failed);
          } catch (IOException | RuntimeException | Error e) {
            if (!(e instanceof Dropped)) {
              firstFailure.compareAndSet(null, e);
            }
            failed.set(true); // the files still in flight are dropped, not renamed
            throw e;
          }
        }));
      }
      for (Future<ArtifactDecoder.Result> f : futures) {
        ArtifactDecoder.Result r = await(f);
        counts[0] += r.artifactBytes();
        counts[1] += r.plaintextBytes();
      }
    } catch (IOException | RuntimeException | Error e) {
      failed.set(true);
      joinWorkers(pool);
      Throwable first = firstFailure.get();
      if (e instanceof Dropped && first != null) {
        await(CompletableFuture.failedFuture(first)); // the failure that stopped the others
      }
      throw e;
    } finally {
      joinWorkers(pool);
    }
    RestorePlan resolved = plan;
    if (plan.target().kind() == RestoreTarget.Kind.GTID) {
      Sidecar last = plan.files().get(plan.files().size() - 1);
      boolean maria = GtidState.isMariaDb(last.binlog());
      GtidSet state = GtidState.start(last.binlog());
      if (state == null) {
        throw new ArchiveException("cannot find GTID [" + plan.stopAfterGtid() + "] in " + last.file()
            + ": its sidecar records no previous-GTID state");
      }
      long stop = GtidStopFinder.find(paths.get(paths.size() - 1), state, plan.target().gtidSet(), maria);
      if (stop > 0 && plan.files().size() == 1 && stop <= plan.startPosition()) {
        throw new ArchiveException("cannot restore to " + plan.target() + ": its transaction ends at " + last.file()
            + ":" + stop + ", before the start position " + plan.startPosition());
      }
      resolved = new RestorePlan(plan.timeline(), plan.backup(), plan.startFile(), plan.startPosition(),
          plan.startGtids(), plan.target(), plan.files(), plan.totalBytes(), plan.stopDatetime(), stop,
          plan.stopAfterGtid(), plan.flavor(), plan.windows(), plan.problems(), plan.startChoice(), plan.segments());
    }
    return new FetchResult(resolved, directory, paths, todo.size(), reused, counts[0], counts[1],
        Duration.ofNanos(System.nanoTime() - t0));
  }

  /** Whether the file is there with the sidecar's content (a file archived whole). */
  static boolean alreadyFetched(Path p, Sidecar s) throws IOException {
    return alreadyFetched(p, s, List.of());
  }

  /** Whether the file is there with the sidecar's content (each segment's, for a file of segments). */
  private static boolean alreadyFetched(Path p, Sidecar s, List<Sidecar> segments) throws IOException {
    if (!Files.isRegularFile(p) || Files.size(p) != s.size()) {
      return false;
    }
    List<Sidecar> parts = s.segment() == null ? List.of(s) : segments;
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      ByteBuffer buf = ByteBuffer.allocate(1 << 20);
      for (Sidecar part : parts) {
        MessageDigest d = Digests.sha256();
        long left = part.size();
        while (left > 0) {
          buf.clear().limit((int) Math.min(buf.capacity(), left));
          int n = ch.read(buf);
          if (n <= 0) {
            return false;
          }
          buf.flip();
          d.update(buf);
          left -= n;
        }
        if (!Digests.hex(d.digest()).equalsIgnoreCase(part.sha256())) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Fetches one file: its artifact, or for a file archived only as segments, its segments
   * concatenated in order, each decoded and proven against its own sidecar.
   *
   * @param dropRest set once another file of the fetch failed: this one is then not renamed into place
   */
  private ArtifactDecoder.Result fetchOne(Sidecar s, List<Sidecar> segments, Path directory, AtomicBoolean dropRest)
      throws IOException {
    if (dropRest.get()) {
      throw new Dropped("not fetching " + s.file() + " into " + directory + ": another file of the fetch failed");
    }
    long t0 = System.nanoTime();
    Path target = directory.resolve(s.file());
    List<Sidecar> parts = s.segment() == null ? List.of(s) : segments;
    if (s.segment() != null) {
      long at = 0;
      for (Sidecar part : parts) {
        if (part.segment() == null || part.segment().start() != at) {
          throw new IntegrityException("the segments of " + s.file() + " in the plan do not follow each other at offset "
              + at + " (" + part.artifact().key() + ")");
        }
        at = part.segment().end();
      }
      if (at != s.size()) {
        throw new IntegrityException("the segments of " + s.file() + " in the plan end at offset " + at + ", not "
            + s.size());
      }
    }
    String what = s.segment() == null ? s.artifact().key() : parts.size() + " segment(s) of " + s.file();
    Path[] tmp = new Path[1];
    ArtifactDecoder.Result r = retryPolicy.call("fetch " + what, () -> {
      LocalFiles.Temp temp = LocalFiles.createTemp(directory, s.file());
      tmp[0] = temp.path();
      try (FileChannel ch = temp.channel();
          BackgroundFlusher flusher = syncFetchedFiles ? new BackgroundFlusher(ch, "binlog-archive-flush-" + s.file()) : null) {
        boolean[] failed = {false};
        ArtifactDecoder.FailureAware out = new ArtifactDecoder.FailureAware() {
          @Override
          public void accept(ByteBuffer chunk) throws IOException {
            try {
              int len = chunk.remaining();
              while (chunk.hasRemaining()) {
                ch.write(chunk);
              }
              if (flusher != null) {
                flusher.written(len);
              }
            } catch (IOException e) {
              failed[0] = true;
              throw e;
            }
          }

          @Override
          public boolean failed() {
            return failed[0];
          }
        };
        long artifactBytes = 0;
        long plaintextBytes = 0;
        for (Sidecar part : parts) {
          ArtifactDecoder.Result one =
              ArtifactDecoder.decode(sink, part, decryption, codecs, allowUnencrypted, out, false);
          artifactBytes += one.artifactBytes();
          plaintextBytes += one.plaintextBytes();
        }
        ArtifactDecoder.Result res = new ArtifactDecoder.Result(artifactBytes, plaintextBytes);
        if (flusher != null) {
          flusher.finish();
          ch.force(true);
        }
        return res;
      } catch (IOException | RuntimeException e) {
        Files.deleteIfExists(temp.path());
        throw e;
      }
    });
    try {
      if (dropRest.get()) {
        throw new Dropped("not renaming " + s.file() + " into " + directory + ": another file of the fetch failed");
      }
      LocalFiles.moveIntoPlace(tmp[0], target);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp[0]);
      throw e;
    }
    if (syncFetchedFiles) {
      FsSync.directory(directory);
    }
    Duration d = Duration.ofNanos(System.nanoTime() - t0);
    LOG.atInfo().addKeyValue("binlog_filename", s.file()).addKeyValue("bytes_processed", r.plaintextBytes())
        .log("fetched {} ({} bytes, SHA-256 verified) in {} ms", s.file(), r.plaintextBytes(), d.toMillis());
    listener.fileFetched(s, target, false, d);
    return r;
  }

  /** A file of a fetch left out because another one failed. */
  private static final class Dropped extends InterruptedIOException {
    private static final long serialVersionUID = 1L;

    Dropped(String message) {
      super(message);
    }
  }

}
