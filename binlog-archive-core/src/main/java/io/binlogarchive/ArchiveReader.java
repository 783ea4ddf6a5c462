package io.binlogarchive;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The read side of one server's archive: base backup registry, restore planning, verified
 * fetching, whole-archive verification and retention.
 *
 * <pre>{@code
 * ArchiveReader reader = ArchiveReader.builder()
 *     .sink(FileSystemSink.of(Path.of("/backup/binlogs")))
 *     .serverId("db1")
 *     .keyProvider(keys)   // only for encrypted archives
 *     .build();
 * RestorePlan plan = reader.plan("nightly-2026-11-21", RestoreTarget.time(Instant.parse("2026-11-22T09:59:59Z")));
 * FetchResult fetched = reader.fetch(plan, Path.of("/restore/binlogs"));
 * System.out.println(fetched.replayShellCommand("mariadb"));
 * }</pre>
 *
 * <p>Planning reads listings and sidecars only. Fetching downloads, decrypts and decompresses each
 * file in one stream, proves its SHA-256 against the sidecar, and only then gives it its name.
 * Instances are immutable and thread-safe; the sink stays the caller's.
 */
public final class ArchiveReader {
  private static final Logger LOG = LoggerFactory.getLogger(ArchiveReader.class);

  /** Told of progress; every method has a no-op default and must not throw. */
  public interface Listener {
    /**
     * A file of a fetch is in place.
     *
     * @param sidecar the file's sidecar
     * @param file where it is
     * @param reused {@code true} if it was already there and verified, so not downloaded
     * @param duration how long it took
     */
    default void fileFetched(Sidecar sidecar, Path file, boolean reused, Duration duration) {}

    /**
     * An artifact was checked by {@link #verify(VerifyOptions)}.
     *
     * @param sidecar its sidecar
     * @param problem what is wrong with it, or {@code null}
     */
    default void fileVerified(Sidecar sidecar, ArchiveProblem problem) {}

    /**
     * An artifact was moved to the new key by {@link #rewrap(KeyProvider, Predicate, boolean)}: its
     * sidecar names the new artifact and the old one is deleted.
     *
     * @param move what moved
     */
    default void fileRewrapped(RewrapResult.Move move) {}
  }

  private final Sink sink;
  private final ArchiveLayout layout;
  private final String serverId;
  private final Transform decryption;
  private final KeyProvider keys;
  private final int parallelism;
  private final RetryPolicy retryPolicy;
  private final Listener listener;
  private final UsableSpace usableSpace;
  private final boolean syncFetchedFiles;

  private ArchiveReader(Builder b) {
    this.sink = b.sink;
    this.serverId = b.serverId;
    this.layout = new ArchiveLayout(b.prefix, b.serverId);
    this.decryption = b.decryption;
    this.keys = b.keys;
    this.parallelism = b.parallelism;
    this.retryPolicy = b.retryPolicy;
    this.listener = b.listener;
    this.usableSpace = b.usableSpace;
    this.syncFetchedFiles = b.syncFetchedFiles;
  }

  /** How many bytes a directory's file system can take; a seam for tests. */
  @FunctionalInterface
  interface UsableSpace {
    long of(Path directory) throws IOException;
  }

  /** @return a new builder */
  public static Builder builder() {
    return new Builder();
  }

  // ---- base backups ---------------------------------------------------------------------------

  /**
   * Records a base backup as {@code <prefix>/<server-id>/backups/<name>.json}. Never overwrites:
   * registering the same record again is a no-op; a different record under the name fails.
   *
   * @param backup the backup and its coordinates
   * @return the stored record
   * @throws ObjectExistsException if a different record has that name
   * @throws IOException if the store fails
   */
  public BaseBackup registerBaseBackup(BaseBackup backup) throws IOException {
    Objects.requireNonNull(backup, "backup");
    String key = layout.backupKey(backup.name());
    byte[] json = backup.toJson();
    try {
      retryPolicy.call("register " + key, () -> {
        try (SinkWriter w = sink.create(key, Map.of("content-type", "application/json"))) {
          w.write(json);
          return w.commit();
        }
      });
      LOG.atInfo().addKeyValue("backup", backup.name()).log("registered base backup {} at {}:{}", backup.name(),
          backup.file(), backup.position());
      return backup;
    } catch (ObjectExistsException e) {
      BaseBackup existing = baseBackup(backup.name());
      if (existing.equals(backup)) {
        return existing;
      }
      throw new ObjectExistsException(key, "base backup " + backup.name() + " is already registered with other"
          + " coordinates (" + existing.file() + ":" + existing.position() + "); records are never overwritten");
    }
  }

  /**
   * @param name a backup's name
   * @return its record
   * @throws NotFoundException if no backup has that name
   * @throws IOException if the store fails
   */
  public BaseBackup baseBackup(String name) throws IOException {
    String key = layout.backupKey(new BaseBackup(name, "x.1", 4, null, null, null).name());
    if (sink.stat(key).isEmpty()) {
      throw new NotFoundException("no base backup named " + name + " is registered in " + sink.describe() + " ("
          + key + ")");
    }
    try (InputStream in = sink.open(key)) {
      return BaseBackup.parse(in.readNBytes(1 << 20), key);
    }
  }

  /**
   * @return every registered base backup, oldest first (by binlog coordinates)
   * @throws IOException if the store fails
   */
  public List<BaseBackup> baseBackups() throws IOException {
    List<BaseBackup> out = new ArrayList<>();
    for (StoredObject o : sink.list(layout.root() + "/backups/")) {
      if (o.key().endsWith(".json")) {
        try (InputStream in = sink.open(o.key())) {
          out.add(BaseBackup.parse(in.readNBytes(1 << 20), o.key()));
        }
      }
    }
    out.sort(BACKUP_ORDER);
    return out;
  }

  private static final Comparator<BaseBackup> BACKUP_ORDER =
      Comparator.comparing((BaseBackup b) -> b.timeline() == null ? "" : b.timeline())
          .thenComparingLong(BaseBackup::sequence)
          .thenComparingLong(BaseBackup::position)
          .thenComparing(b -> b.takenAt() == null ? Instant.MIN : b.takenAt())
          .thenComparing(BaseBackup::name);

  // ---- planning -------------------------------------------------------------------------------

  /**
   * Plans a restore from a registered base backup.
   *
   * @param backupName the backup's name
   * @param target where to stop
   * @return the plan
   * @throws NotFoundException if the backup or its start file is not in the archive
   * @throws ArchiveException if the target lies outside the window the backup is in (the message
   *     names the windows and the gaps)
   * @throws IOException if the store fails
   */
  public RestorePlan plan(String backupName, RestoreTarget target) throws IOException {
    return plan(baseBackup(backupName), target);
  }

  /**
   * Plans a restore from a base backup's coordinates (registered or not).
   *
   * @param backup the start
   * @param target where to stop
   * @return the plan
   * @throws NotFoundException if its start file is not in the archive
   * @throws ArchiveException if the target lies outside the start's window
   * @throws IOException if the store fails
   */
  public RestorePlan plan(BaseBackup backup, RestoreTarget target) throws IOException {
    Objects.requireNonNull(backup, "backup");
    Objects.requireNonNull(target, "target");
    return RestorePlanner.plan(survey(null), backup.name(), backup, target);
  }

  /**
   * Plans a restore from an explicit binlog file and position.
   *
   * @param file the first binlog to replay
   * @param position where replay starts in it (4 for its beginning)
   * @param target where to stop
   * @return the plan
   * @throws NotFoundException if the file is not in the archive
   * @throws ArchiveException if the target lies outside the file's window
   * @throws IOException if the store fails
   */
  public RestorePlan planFrom(String file, long position, RestoreTarget target) throws IOException {
    Objects.requireNonNull(target, "target");
    return RestorePlanner.plan(survey(null), null, new BaseBackup("start", file, position, null, null, null), target);
  }

  /**
   * @return the archive's restorable windows, from listings and sidecars
   * @throws IOException if the store fails
   */
  public List<RestoreWindow> windows() throws IOException {
    return List.copyOf(survey(null).windows);
  }

  ArchiveSurvey survey(VerifyState state) throws IOException {
    ExecutorService pool = pool("binlog-archive-read");
    try {
      return ArchiveSurvey.read(sink, layout, o -> {
        Sidecar cached = state == null ? null : state.sidecar(o);
        return cached != null ? cached : readSidecar(o.key());
      }, pool);
    } finally {
      pool.shutdownNow();
    }
  }

  private Sidecar readSidecar(String key) throws IOException {
    return retryPolicy.call("read " + key, () -> {
      try (InputStream in = sink.open(key)) {
        return Sidecar.parse(in.readNBytes(4 << 20), key);
      }
    });
  }

  // ---- fetch ----------------------------------------------------------------------------------

  /**
   * Downloads the plan's files into {@code directory} under their original names, {@code
   * parallelism} at a time: each in one stream (download, decrypt, decompress) into a hidden
   * temporary file, checked against its sidecar's size and SHA-256, then renamed (and fsynced
   * first if {@link Builder#syncFetchedFiles(boolean)} asks for it). Files already there are kept
   * only if their size and SHA-256 match the sidecar (a fetch resumes), so a file damaged by a crash
   * before it reached the disk is fetched again. Checks first that the directory's file system has
   * room for what must be downloaded.
   *
   * @param plan a plan of this archive
   * @param directory the target directory (created if missing)
   * @return the files and the replay command; for a GTID target, the plan with its stop position
   * @throws ArchiveException if there is not enough free space
   * @throws IntegrityException if an artifact does not match its sidecar (nothing is renamed)
   * @throws IOException if the store or the directory fails
   */
  public FetchResult fetch(RestorePlan plan, Path directory) throws IOException {
    long t0 = System.nanoTime();
    Files.createDirectories(directory);
    List<Path> paths = new ArrayList<>();
    List<Sidecar> todo = new ArrayList<>();
    int reused = 0;
    long need = 0;
    for (Sidecar s : plan.files()) {
      if (!BinlogNames.isPlainFileName(s.file())) {
        throw new IntegrityException("sidecar of " + s.artifact().key() + " names an unsafe file '" + s.file() + "'");
      }
      Path p = directory.resolve(s.file());
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
    long usable = usableSpace.of(directory);
    if (need > usable) {
      throw new ArchiveException("not enough free space in " + directory + ": the restore needs " + need
          + " bytes for " + todo.size() + " binlog(s) but only " + usable + " bytes are usable there;"
          + " free some space or fetch to another directory");
    }
    long[] counts = new long[2];
    ExecutorService pool = pool("binlog-archive-fetch");
    try {
      List<Future<ArtifactDecoder.Result>> futures = new ArrayList<>();
      for (Sidecar s : todo) {
        futures.add(pool.submit(() -> fetchOne(s, plan.segmentsOf(s.file()), directory)));
      }
      for (Future<ArtifactDecoder.Result> f : futures) {
        ArtifactDecoder.Result r = await(f);
        counts[0] += r.artifactBytes();
        counts[1] += r.plaintextBytes();
      }
    } finally {
      pool.shutdownNow();
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
          plan.stopAfterGtid(), plan.flavor(), plan.windows(), plan.problems(), plan.segments());
    }
    return new FetchResult(resolved, directory, paths, todo.size(), reused, counts[0], counts[1],
        Duration.ofNanos(System.nanoTime() - t0));
  }

  /** Whether the file is there with the sidecar's content (each segment's, for a file of segments). */
  private static boolean alreadyFetched(Path p, Sidecar s, List<Sidecar> segments) throws IOException {
    if (!Files.isRegularFile(p) || Files.size(p) != s.size()) {
      return false;
    }
    List<Sidecar> parts = s.segment() == null ? List.of(s) : segments;
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
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
   */
  private ArtifactDecoder.Result fetchOne(Sidecar s, List<Sidecar> segments, Path directory) throws IOException {
    long t0 = System.nanoTime();
    Path target = directory.resolve(s.file());
    Path tmp = directory.resolve("." + s.file() + ".part");
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
    ArtifactDecoder.Result r = retryPolicy.call("fetch " + what, () -> {
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING);
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
          ArtifactDecoder.Result one = ArtifactDecoder.decode(sink, part, decryption, out, false);
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
        Files.deleteIfExists(tmp);
        throw e;
      }
    });
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    if (syncFetchedFiles) {
      FsSync.directory(directory);
    }
    Duration d = Duration.ofNanos(System.nanoTime() - t0);
    LOG.atInfo().addKeyValue("binlog_filename", s.file()).addKeyValue("bytes_processed", r.plaintextBytes())
        .log("fetched {} ({} bytes, SHA-256 verified) in {} ms", s.file(), r.plaintextBytes(), d.toMillis());
    listener.fileFetched(s, target, false, d);
    return r;
  }

  // ---- verify ---------------------------------------------------------------------------------

  /**
   * Walks the whole archive: every sidecar present and valid, every artifact present with the size
   * (and store checksum) its sidecar records, or with {@link VerifyOptions#full()} downloaded,
   * decoded and matching its plaintext SHA-256; sequence and GTID continuity; timelines. With a
   * state file, objects verified before and unchanged since are not checked again.
   *
   * @param options what to check
   * @return files and bytes checked, every problem with its object, and the restorable windows
   * @throws IOException if the store cannot be listed or read
   */
  public VerifyReport verify(VerifyOptions options) throws IOException {
    long t0 = System.nanoTime();
    String archiveId = sink.describe() + "#" + layout.root();
    VerifyState old = options.stateFile() == null || options.recheckAll()
        ? VerifyState.empty(archiveId) : VerifyState.load(options.stateFile(), archiveId);
    ArchiveSurvey survey = survey(old);
    VerifyState next = VerifyState.empty(archiveId);
    int checked = 0;
    int unchanged = 0;
    long bytes = 0;
    Map<ArchiveSurvey.Entry, Future<ArchiveProblem>> decodes = new LinkedHashMap<>();
    ExecutorService pool = pool("binlog-archive-verify");
    try {
      for (ArchiveSurvey.Entry e : survey.all()) {
        if (e.sidecarObject == null) {
          continue;
        }
        if (e.sidecar != null && e.problem == null && old.verified(e.sidecarObject, e.artifact, options.full())) {
          unchanged++;
          next.items.put(e.sidecarObject.key(), old.items.get(e.sidecarObject.key()));
          continue;
        }
        checked++;
        if (!e.usable()) {
          if (e.sidecar != null) {
            listener.fileVerified(e.sidecar, e.problem);
          }
          continue;
        }
        bytes += e.artifact.size();
        if (options.full()) {
          decodes.put(e, pool.submit(() -> {
            try {
              ArtifactDecoder.decode(sink, e.sidecar, decryption, null);
              return null;
            } catch (IntegrityException | NotFoundException x) {
              return new ArchiveProblem(ArchiveProblem.Kind.CORRUPT_ARTIFACT, e.timeline, e.file, e.artifact.key(),
                  x.getMessage());
            }
          }));
        } else {
          remember(next, e, false);
          listener.fileVerified(e.sidecar, null);
        }
      }
      for (ArchiveSurvey.Entry e : survey.partials()) {
        checked++; // segments are checked every time: they are few and short-lived
        for (Sidecar seg : e.segments) {
          bytes += seg.artifact().size();
        }
        if (!e.usable()) {
          continue;
        }
        if (options.full()) {
          decodes.put(e, pool.submit(() -> {
            for (Sidecar seg : e.segments) {
              try {
                ArtifactDecoder.decode(sink, seg, decryption, null);
              } catch (IntegrityException | NotFoundException x) {
                return new ArchiveProblem(ArchiveProblem.Kind.CORRUPT_ARTIFACT, e.timeline, e.file,
                    seg.artifact().key(), x.getMessage());
              }
            }
            return null;
          }));
        } else {
          listener.fileVerified(e.sidecar, null);
        }
      }
      for (var d : decodes.entrySet()) {
        ArchiveSurvey.Entry e = d.getKey();
        ArchiveProblem p = await(d.getValue());
        if (p != null) {
          survey.markCorrupt(e, p);
        } else if (!e.partial()) {
          remember(next, e, true);
        }
        listener.fileVerified(e.sidecar, p);
      }
    } finally {
      pool.shutdownNow();
    }
    survey.compute();
    if (options.stateFile() != null) {
      next.save(options.stateFile());
    }
    VerifyReport report = new VerifyReport(options.full(), checked, unchanged, bytes, survey.problems, survey.windows,
        Duration.ofNanos(System.nanoTime() - t0));
    LOG.atInfo().addKeyValue("files_checked", checked).addKeyValue("problems", report.problems().size())
        .log("verified {}: {} file(s) checked, {} unchanged, {} problem(s)", layout.root(), checked, unchanged,
            report.problems().size());
    return report;
  }

  private static void remember(VerifyState state, ArchiveSurvey.Entry e, boolean full) {
    state.items.put(e.sidecarObject.key(), new VerifyState.Item(e.sidecarObject.size(), e.sidecarObject.lastModified(),
        e.artifact.key(), e.artifact.size(), e.artifact.lastModified(), full, Instant.now(), e.sidecar));
  }

  // ---- retention ------------------------------------------------------------------------------

  /**
   * Applies a retention policy: deletes every archived binlog before the oldest retained base
   * backup's start file (and whole older timelines), the sidecar before the artifact, the segments
   * of binlogs archived only as segments with their file, segments left beside files archived
   * whole, and the records of backups whose start file goes. Never deletes a file a retained backup needs to
   * reach the newest archived point. Refuses when no backup is registered or a retained backup's
   * start file is not archived yet.
   *
   * @param policy what to keep
   * @param apply {@code false} for a dry run (nothing is deleted; the result lists what would go)
   * @return what was (or would be) deleted
   * @throws ArchiveException if the policy cannot be applied safely
   * @throws IOException if the store fails
   */
  public PruneResult prune(RetentionPolicy policy, boolean apply) throws IOException {
    Objects.requireNonNull(policy, "policy");
    ArchiveSurvey survey = survey(null);
    List<BaseBackup> backups = baseBackups();
    if (backups.isEmpty()) {
      throw new ArchiveException("no base backup is registered for " + layout.root() + ": nothing shows which binlogs"
          + " a restore needs, so nothing is pruned; register backups first");
    }
    record Anchored(BaseBackup backup, ArchiveSurvey.Entry entry, int timeline) {}
    List<Anchored> anchored = new ArrayList<>();
    List<String> unresolved = new ArrayList<>();
    for (BaseBackup b : backups) {
      try {
        ArchiveSurvey.Entry e = RestorePlanner.findStart(survey, b, "base backup " + b.name());
        anchored.add(new Anchored(b, e, ArchiveLayout.timelineNumber(e.timeline)));
      } catch (NotFoundException x) {
        unresolved.add(b.name() + " (" + x.getMessage() + ")");
        anchored.add(new Anchored(b, null, Integer.MAX_VALUE));
      }
    }
    anchored.sort(Comparator.comparingInt(Anchored::timeline)
        .thenComparingLong(a -> a.entry == null ? a.backup.sequence() : a.entry.sequence)
        .thenComparingLong(a -> a.backup.position()).thenComparing(a -> a.backup.name()));
    List<Anchored> retained = new ArrayList<>();
    if (policy.maxAge() != null) {
      Instant cutoff = policy.clock().instant().minus(policy.maxAge());
      Anchored newestBefore = null;
      for (Anchored a : anchored) {
        if (a.backup.takenAt() == null || !a.backup.takenAt().isBefore(cutoff)) {
          retained.add(a);
        } else {
          newestBefore = a;
        }
      }
      if (newestBefore != null) {
        retained.add(0, newestBefore);
      }
    } else {
      retained.addAll(anchored.subList(Math.max(0, anchored.size() - policy.keepBackups()), anchored.size()));
    }
    for (Anchored a : retained) {
      if (a.entry == null) {
        throw new ArchiveException("cannot prune by '" + policy + "': retained base backup " + a.backup.name()
            + " starts at " + a.backup.file() + ", which is not a restorable file of the archive; nothing is deleted."
            + " Unresolved: " + String.join("; ", unresolved));
      }
    }
    Anchored anchor = retained.get(0);
    int anchorTimeline = anchor.timeline;
    long anchorSeq = anchor.entry.sequence;
    List<String> keys = new ArrayList<>();
    List<String> files = new ArrayList<>();
    long freed = 0;
    for (ArchiveSurvey.Entry e : survey.all()) {
      int t = ArchiveLayout.timelineNumber(e.timeline);
      if (t < anchorTimeline || (t == anchorTimeline && e.sequence < anchorSeq)) {
        files.add(e.timeline + "/" + e.file);
        if (e.sidecarObject != null) {
          keys.add(e.sidecarObject.key());
        }
        if (e.artifact != null) {
          keys.add(e.artifact.key());
          freed += e.artifact.size();
        }
      }
    }
    for (ArchiveSurvey.Entry e : survey.partials()) {
      int t = ArchiveLayout.timelineNumber(e.timeline);
      if (t < anchorTimeline || (t == anchorTimeline && e.sequence < anchorSeq)) {
        files.add(e.timeline + "/" + e.file);
        keys.addAll(e.segmentKeys); // sidecars first
        for (Sidecar seg : e.segments) {
          freed += seg.artifact().size();
        }
      }
    }
    keys.addAll(survey.leftoverSegmentKeys); // segments of files archived whole: never needed
    for (ArchiveProblem p : survey.problems) {
      if ((p.kind() == ArchiveProblem.Kind.ORPHAN_ARTIFACT || p.kind() == ArchiveProblem.Kind.REWRAP_LEFTOVER)
          && p.objectKey() != null && !keys.contains(p.objectKey())) {
        int t = ArchiveLayout.timelineNumber(p.timeline());
        if (t < anchorTimeline || (t == anchorTimeline && BinlogNames.sequence(p.file()) < anchorSeq)) {
          keys.add(p.objectKey());
        }
      }
    }
    List<String> kept = new ArrayList<>();
    List<String> dropped = new ArrayList<>();
    List<String> droppedKeys = new ArrayList<>();
    for (Anchored a : anchored) {
      boolean startGoes = a.entry != null && (a.timeline < anchorTimeline
          || (a.timeline == anchorTimeline && a.entry.sequence < anchorSeq));
      if (startGoes && !retained.contains(a)) {
        dropped.add(a.backup.name());
        droppedKeys.add(layout.backupKey(a.backup.name()));
      } else {
        kept.add(a.backup.name());
      }
    }
    keys.addAll(droppedKeys);
    if (apply) {
      for (String k : keys) {
        retryPolicy.call("delete " + k, () -> {
          sink.delete(k);
          return null;
        });
      }
      LOG.atInfo().log("pruned {}: {} binlog(s), {} object(s), {} bytes; kept from {}/{}", layout.root(), files.size(),
          keys.size(), freed, anchor.entry.timeline, anchor.entry.file);
    }
    return new PruneResult(apply, policy.toString(), kept, dropped, anchor.entry.timeline + "/" + anchor.entry.file,
        keys, files, freed);
  }

  // ---- key rotation -------------------------------------------------------------------------

  /**
   * Moves encrypted artifacts to another key without decrypting anything to storage: for each
   * selected file whose data key is wrapped under another key id than {@code newKeys}' primary one,
   * the old artifact is streamed through {@link AesGcmTransform#rewrap} (only the key envelope
   * changes; every segment is authenticated on the way) into a new object named {@code
   * <file>.k<N><ext>} (the N-th rewrap of the file, e.g. {@code mysql-bin.000042.k1.zst.aes}), which
   * is read back with the new key alone (decrypt, decompress, plaintext SHA-256 against the
   * sidecar); then the sidecar is replaced, conditionally on the version read before, to name it;
   * then the old artifact is deleted. Up to {@code parallelism} files at a time; memory is bounded
   * per file whatever its size.
   *
   * <p>A crash at any point leaves every file restorable, at worst with one unreferenced artifact
   * beside it, which {@link #verify(VerifyOptions)} reports as {@link
   * ArchiveProblem.Kind#REWRAP_LEFTOVER} (not a gap). Running the rewrap again finishes the job: it
   * adopts a new artifact that reads back under the new key, and deletes old artifacts that their
   * sidecar no longer names (in every file, selected or not). A file that fails is left as it was
   * and reported; the others go on.
   *
   * @param newKeys the provider the artifacts move to (its {@link KeyProvider#primaryKeyId()}); the
   *     reader's own {@link Builder#keyProvider(KeyProvider) key provider} unwraps the old keys
   * @param which which files to consider (e.g. {@code s -> "2025-01".equals(s.artifact().keyId())});
   *     unencrypted files and files already under the new key are skipped anyway
   * @param apply {@code false} for a dry run: listings and sidecars are read, nothing is written
   * @return what was (or would be) moved, and what could not be
   * @throws ArchiveException when applying without a reader key provider, or on a sink without
   *     conditional writes ({@link Sink#supportsConditionalWrites()})
   * @throws IOException if the store cannot be listed
   */
  public RewrapResult rewrap(KeyProvider newKeys, Predicate<Sidecar> which, boolean apply) throws IOException {
    ArchiveReader reader = this;
    return new ArchiveRewrap(new ArchiveRewrap.Context() {
      @Override
      public Sink sink() {
        return sink;
      }

      @Override
      public RetryPolicy retryPolicy() {
        return retryPolicy;
      }

      @Override
      public KeyProvider keys() {
        return keys;
      }

      @Override
      public Listener listener() {
        return listener;
      }

      @Override
      public ArchiveSurvey survey() throws IOException {
        return reader.survey(null);
      }

      @Override
      public ExecutorService pool(String name) {
        return reader.pool(name);
      }
    }).run(newKeys, which, apply);
  }

  // ---- source purge ---------------------------------------------------------------------------

  /**
   * Purges binlogs from the source server, through the caller's {@link DataSource}, but only up to
   * the last file that is archived and verified: the end of the newest timeline's last window in
   * {@code verified} (a report of this archive), provided the server still lists that file with
   * the size its sidecar records. Issues {@code PURGE BINARY LOGS TO '<next file>'}, which keeps
   * the next file and everything after it.
   *
   * @param dataSource a connection to the source server, with the privilege to purge
   * @param verified a recent {@link #verify(VerifyOptions)} report of this archive
   * @param apply {@code false} to only return the statement
   * @return the statement issued (or that would be), or empty if nothing may be purged
   * @throws ArchiveException if the server's files disagree with the archive
   * @throws IOException if the store or the server fails
   */
  public Optional<String> purgeSource(DataSource dataSource, VerifyReport verified, boolean apply) throws IOException {
    Objects.requireNonNull(dataSource, "dataSource");
    Objects.requireNonNull(verified, "verified");
    if (verified.windows().isEmpty()) {
      return Optional.empty();
    }
    ArchiveSurvey survey = survey(null);
    if (survey.timelines.isEmpty()) {
      return Optional.empty();
    }
    String newest = survey.timelines.get(survey.timelines.size() - 1);
    RestoreWindow window = null;
    for (RestoreWindow w : verified.windows()) {
      if (w.timeline().equals(newest)) {
        window = w;
      }
    }
    if (window == null) {
      return Optional.empty();
    }
    Map<String, Long> archived = new LinkedHashMap<>();
    String lastWhole = null;
    for (ArchiveSurvey.Entry e : survey.entries.get(newest)) {
      if (e.usable() && !e.partial()) { // a file kept only as segments is not purged: it is not archived whole yet
        archived.put(e.file, e.sidecar.size());
        if (BinlogNames.sequence(e.file) <= BinlogNames.sequence(window.lastFile())) {
          lastWhole = e.file;
        }
      }
    }
    if (lastWhole == null || BinlogNames.sequence(lastWhole) < BinlogNames.sequence(window.firstFile())) {
      return Optional.empty();
    }
    if (!lastWhole.equals(window.lastFile())) {
      window = new RestoreWindow(window.timeline(), window.firstFile(), lastWhole, window.fileCount(), window.bytes(),
          window.from(), window.to(), window.startGtids(), window.endGtids());
    }
    List<String[]> server = new ArrayList<>();
    try (Connection c = dataSource.getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SHOW BINARY LOGS")) {
      while (rs.next()) {
        server.add(new String[] {rs.getString(1), rs.getString(2)});
      }
    } catch (SQLException e) {
      throw new IOException("cannot list the source server's binlogs: " + e.getMessage(), e);
    }
    int last = -1;
    for (int i = 0; i < server.size(); i++) {
      if (server.get(i)[0].equals(window.lastFile())) {
        last = i;
      }
    }
    if (last < 0 || last == server.size() - 1) {
      return Optional.empty();
    }
    long lastSeq = BinlogNames.sequence(window.lastFile());
    long firstSeq = BinlogNames.sequence(window.firstFile());
    for (int i = 0; i <= last; i++) {
      String name = server.get(i)[0];
      long seq = BinlogNames.sequence(name);
      Long size = archived.get(name);
      if (seq < firstSeq || seq > lastSeq || size == null || size != Long.parseLong(server.get(i)[1])) {
        throw new ArchiveException("will not purge the source: its binlog " + name + " (" + server.get(i)[1]
            + " bytes) is not in the verified window " + window + (size == null ? "" : " with that size (archived: "
            + size + " bytes)"));
      }
    }
    String next = server.get(last + 1)[0];
    if (!next.matches("[A-Za-z0-9._-]+")) {
      throw new ArchiveException("will not purge the source: unexpected binlog name '" + next + "'");
    }
    String sql = "PURGE BINARY LOGS TO '" + next + "'";
    if (apply) {
      try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
        st.execute(sql);
      } catch (SQLException e) {
        throw new IOException("cannot purge the source server's binlogs (" + sql + "): " + e.getMessage(), e);
      }
      LOG.atInfo().log("purged source binlogs before {} (archived and verified up to {})", next, window.lastFile());
    }
    return Optional.of(sql);
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private ExecutorService pool(String name) {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(parallelism, r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  private static <T> T await(Future<T> f) throws IOException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof IOException io) {
        throw io;
      }
      if (c instanceof RuntimeException re) {
        throw re;
      }
      if (c instanceof Error err) {
        throw err;
      }
      throw new IOException(c);
    }
  }

  /** @return the archive's root key, {@code <prefix>/<server-id>} */
  public String root() {
    return layout.root();
  }

  @Override
  public String toString() {
    return "ArchiveReader[" + sink.describe() + ", " + layout.root() + ", parallelism " + parallelism + "]";
  }

  /**
   * Builds an {@link ArchiveReader}. Setters reject bad values at once; {@link #build()} reports
   * every missing setting in one error.
   */
  public static final class Builder {
    private Sink sink;
    private String prefix = "";
    private String serverId;
    private Transform decryption;
    private KeyProvider keys;
    private int parallelism = Math.min(2, Runtime.getRuntime().availableProcessors());
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private Listener listener = new Listener() {};
    private UsableSpace usableSpace = dir -> Files.getFileStore(dir).getUsableSpace();
    private boolean syncFetchedFiles;

    private Builder() {}

    /**
     * @param sink where the archive lives (required)
     * @return this builder
     */
    public Builder sink(Sink sink) {
      this.sink = Objects.requireNonNull(sink, "sink");
      return this;
    }

    /**
     * @param prefix the archive's key prefix (default none)
     * @return this builder
     */
    public Builder prefix(String prefix) {
      this.prefix = ArchiveLayout.normalizePrefix(Objects.requireNonNull(prefix, "prefix"));
      return this;
    }

    /**
     * @param serverId the server's archive name (required)
     * @return this builder
     */
    public Builder serverId(String serverId) {
      new ArchiveLayout("", Objects.requireNonNull(serverId, "serverId"));
      this.serverId = serverId;
      return this;
    }

    /**
     * @param n files fetched or verified at once, and sidecars read at once, 1 to 64 (default 2)
     * @return this builder
     */
    public Builder parallelism(int n) {
      if (n < 1 || n > 64) {
        throw new IllegalArgumentException("parallelism must be 1..64, got " + n);
      }
      this.parallelism = n;
      return this;
    }

    /**
     * @param policy how failed store calls (and whole-file fetches) are retried
     * @return this builder
     */
    public Builder retryPolicy(RetryPolicy policy) {
      this.retryPolicy = Objects.requireNonNull(policy, "retryPolicy");
      return this;
    }

    /**
     * @param l told of progress
     * @return this builder
     */
    public Builder listener(Listener l) {
      this.listener = Objects.requireNonNull(l, "listener");
      return this;
    }

    /**
     * @param keys unwraps the data keys of encrypted artifacts ({@link Transform#aesGcm(KeyProvider)});
     *     needed only when the archive is encrypted, and must know every key id it uses
     * @return this builder
     */
    public Builder keyProvider(KeyProvider keys) {
      this.decryption = Transform.aesGcm(Objects.requireNonNull(keys, "keys"));
      this.keys = keys;
      return this;
    }

    /**
     * Whether {@link #fetch} fsyncs each file before renaming it into place, and the directory
     * after (default {@code false}, like {@code zstd -d} or {@code cp}). Without it a fetch is
     * still safe to resume after a crash: a file already in the directory is kept only if its
     * SHA-256 matches the sidecar, so one that lost its data in the crash is fetched again. Turn it
     * on when the fetched files must survive a power loss by themselves (it costs about a quarter
     * of the fetch's speed on a local disk, see BENCHMARKS.md).
     *
     * @param sync fsync fetched files
     * @return this builder
     */
    public Builder syncFetchedFiles(boolean sync) {
      this.syncFetchedFiles = sync;
      return this;
    }

    /** For tests: what {@link #fetch} takes as the target directory's usable space. */
    Builder usableSpace(UsableSpace probe) {
      this.usableSpace = Objects.requireNonNull(probe, "usableSpace");
      return this;
    }

    /**
     * @return the reader
     * @throws IllegalArgumentException listing every missing setting
     */
    public ArchiveReader build() {
      List<String> problems = new ArrayList<>();
      if (sink == null) {
        problems.add("sink is required");
      }
      if (serverId == null) {
        problems.add("serverId is required");
      }
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException("invalid reader settings: " + String.join("; ", problems));
      }
      return new ArchiveReader(this);
    }
  }
}
