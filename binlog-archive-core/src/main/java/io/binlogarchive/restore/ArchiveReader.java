package io.binlogarchive.restore;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.GtidSet;
import io.binlogarchive.codec.CodecRegistry;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.crypto.AesGcmTransform;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.internal.ArchiveLayout;
import io.binlogarchive.internal.BackgroundFlusher;
import io.binlogarchive.internal.Digests;
import io.binlogarchive.internal.FsSync;
import io.binlogarchive.internal.binlog.BinlogNames;
import io.binlogarchive.internal.binlog.GtidState;
import io.binlogarchive.internal.binlog.GtidStopFinder;
import io.binlogarchive.internal.decode.ArtifactDecoder;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoredObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.LinkOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.stream.Collectors;
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
  private final boolean allowUnencrypted;
  private final CodecRegistry codecs;

  private ArchiveReader(Builder b, CodecRegistry codecs) {
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
    this.allowUnencrypted = b.allowUnencrypted;
    this.codecs = codecs;
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
   * Plans a restore without a named start: from the newest registered base backup that precedes
   * {@code target} (taken at or before a time target; starting at or before a position target;
   * whose GTID state does not yet hold a GTID target; the newest of all for {@link
   * RestoreTarget#latest()}), or, when no base backup is registered, from the beginning of the
   * first archived file of the newest timeline (of an older timeline if the target lies there). A
   * backup whose start file is not a restorable file of the archive (not archived yet) is passed
   * over. {@link RestorePlan#startChoice()} says which, and what was passed over.
   *
   * @param target where to stop
   * @return the plan
   * @throws ArchiveException if base backups are registered but none precedes the target and
   *     starts at an archived file (the message names them), or the target lies outside the chosen
   *     start's window
   * @throws NotFoundException if the archive holds no binlog, or the chosen start file is not in it
   * @throws IOException if the store fails
   */
  public RestorePlan plan(RestoreTarget target) throws IOException {
    Objects.requireNonNull(target, "target");
    return RestorePlanner.planFromNewestStart(survey(null), baseBackups(), target);
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
      joinWorkers(pool);
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
   * <p>The directory may be writable by others: each temporary file gets an unpredictable name and
   * is created exclusively, never through a symbolic link, and a symbolic link (or anything but a
   * regular file) under a final name fails the fetch, naming it, instead of being followed or
   * replaced. A missing directory is created readable by its owner only ({@code rwx------}) where
   * the file system has POSIX permissions. When this method returns or throws, every thread it
   * started has ended: after a failure nothing more is renamed into the directory.
   *
   * @param plan a plan of this archive
   * @param directory the target directory (created, owner-only, if missing)
   * @return the files and the replay command; for a GTID target, the plan with its stop position
   * @throws ArchiveException if there is not enough free space, or a final name is a symbolic link
   * @throws IntegrityException if an artifact does not match its sidecar or decodes to more bytes than
   *     it declares (decoding stops there; that file is not renamed, nor any file not yet renamed when
   *     the failure was seen), or, for a reader with a key provider, an artifact is not encrypted
   *     (unless {@link Builder#allowUnencrypted(boolean)})
   * @throws IOException if the store or the directory fails
   */
  public FetchResult fetch(RestorePlan plan, Path directory) throws IOException {
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
      if (refusesUnencrypted(s)) {
        throw ArtifactDecoder.unencrypted(s); // before anything is downloaded or written
      }
      decoders(s); // an unknown codec fails before anything is downloaded or written
      Path p = directory.resolve(s.file());
      LocalFiles.requireNoLink(p);
      paths.add(p);
      long t1 = System.nanoTime();
      if (alreadyFetched(p, s)) {
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
            return fetchOne(s, directory, failed);
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
          plan.stopAfterGtid(), plan.flavor(), plan.windows(), plan.problems(), plan.startChoice());
    }
    return new FetchResult(resolved, directory, paths, todo.size(), reused, counts[0], counts[1],
        Duration.ofNanos(System.nanoTime() - t0));
  }

  static boolean alreadyFetched(Path p, Sidecar s) throws IOException {
    if (!Files.isRegularFile(p) || Files.size(p) != s.size()) {
      return false;
    }
    MessageDigest d = Digests.sha256();
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      ByteBuffer buf = ByteBuffer.allocate(1 << 20);
      while (ch.read(buf) > 0) {
        buf.flip();
        d.update(buf);
        buf.clear();
      }
    }
    return Digests.hex(d.digest()).equalsIgnoreCase(s.sha256());
  }

  /** @param dropRest set once another file of the fetch failed: this one is then not renamed into place */
  private ArtifactDecoder.Result fetchOne(Sidecar s, Path directory, AtomicBoolean dropRest) throws IOException {
    if (dropRest.get()) {
      throw new Dropped("not fetching " + s.file() + " into " + directory + ": another file of the fetch failed");
    }
    long t0 = System.nanoTime();
    Path target = directory.resolve(s.file());
    Path[] tmp = new Path[1];
    ArtifactDecoder.Result r = retryPolicy.call("fetch " + s.artifact().key(), () -> {
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
        ArtifactDecoder.Result res = ArtifactDecoder.decode(sink, s, decryption, codecs, allowUnencrypted, out, false);
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

  // ---- verify ---------------------------------------------------------------------------------

  /**
   * Walks the whole archive: every sidecar present and valid, every artifact present with the size
   * (and store checksum) its sidecar records, or with {@link VerifyOptions#full()} downloaded,
   * decoded and matching its plaintext SHA-256; sequence and GTID continuity; timelines. With a
   * state file, objects verified before and unchanged since are not checked again; it is written
   * like a fetched file (random temporary name, created exclusively, never through a link). A reader
   * with a key provider reports unencrypted artifacts as corrupt unless
   * {@link Builder#allowUnencrypted(boolean)}. When this method returns or throws, every thread it
   * started has ended.
   *
   * @param options what to check
   * @return files and bytes checked, every problem with its object, and the restorable windows
   * @throws ArchiveException if the state file is a symbolic link (or not a regular file)
   * @throws IOException if the store cannot be listed or read
   */
  public VerifyReport verify(VerifyOptions options) throws IOException {
    long t0 = System.nanoTime();
    String archiveId = sink.describe() + "#" + layout.root();
    if (options.stateFile() != null) {
      LocalFiles.requireNoLink(options.stateFile()); // before the work, not when saving after it
    }
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
        if (e.usable() && refusesUnencrypted(e.sidecar)) { // whatever an earlier run without the key recorded
          checked++;
          ArchiveProblem p = new ArchiveProblem(ArchiveProblem.Kind.CORRUPT_ARTIFACT, e.timeline, e.file,
              e.artifact.key(), ArtifactDecoder.unencrypted(e.sidecar).getMessage());
          survey.markCorrupt(e, p);
          listener.fileVerified(e.sidecar, p);
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
          decoders(e.sidecar); // a reader that lacks a codec fails at once: the archive is not at fault
          decodes.put(e, pool.submit(() -> {
            try {
              ArtifactDecoder.decode(sink, e.sidecar, decryption, codecs, allowUnencrypted, null, true);
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
      for (var d : decodes.entrySet()) {
        ArchiveSurvey.Entry e = d.getKey();
        ArchiveProblem p = await(d.getValue());
        if (p != null) {
          survey.markCorrupt(e, p);
        } else {
          remember(next, e, true);
        }
        listener.fileVerified(e.sidecar, p);
      }
    } finally {
      joinWorkers(pool);
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

  /**
   * The transforms that decode {@code s}'s artifact.
   *
   * @throws ArchiveException naming the object, the binlog and the id, if this reader lacks its codec or cipher
   */
  private List<Transform> decoders(Sidecar s) {
    return ArtifactDecoder.transforms(s, s.artifact().keyId(), decryption, allowUnencrypted, codecs);
  }

  /** Whether this reader holds a key, does not allow unencrypted artifacts, and {@code s} is one. */
  private boolean refusesUnencrypted(Sidecar s) {
    return decryption != null && !allowUnencrypted && s.artifact().cipher() == null;
  }

  private static void remember(VerifyState state, ArchiveSurvey.Entry e, boolean full) {
    state.items.put(e.sidecarObject.key(), new VerifyState.Item(e.sidecarObject.size(), e.sidecarObject.lastModified(),
        e.artifact.key(), e.artifact.size(), e.artifact.lastModified(), full, Instant.now(), e.sidecar));
  }

  // ---- retention ------------------------------------------------------------------------------

  /**
   * Applies a retention policy: deletes every archived binlog before the oldest retained base
   * backup's start file (and whole older timelines), the sidecar before the artifact, and the
   * records of backups whose start file goes. Never deletes a file a retained backup needs to
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
      public CodecRegistry codecs() {
        return codecs;
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
   * Purges binlogs from the source server, through the caller's {@link DataSource}, but only files
   * whose local bytes are proven equal to the archive: each must lie in the newest timeline's last
   * window of {@code verified}, a report of a <em>full</em> verify (its artifact decoded to the
   * SHA-256 its sidecar records), the server must list it with the size its sidecar records, and
   * its local file in {@code binlogDir}, read now, must have that SHA-256. Issues {@code PURGE
   * BINARY LOGS TO '<next file>'}, which keeps the next file and everything after it: the purge
   * stops before the first file whose local copy is missing or differs (logged as a warning naming
   * it), and never goes past the end of the verified window.
   *
   * @param dataSource a connection to the source server, with the privilege to purge
   * @param binlogDir the directory that holds the server's binlogs (the files {@code SHOW BINARY
   *     LOGS} names)
   * @param verified a recent {@link #verify(VerifyOptions)} report of this archive, with {@link
   *     VerifyOptions#full()}
   * @param apply {@code false} to only return the statement
   * @return the statement issued (or that would be), or empty if nothing may be purged
   * @throws ArchiveException if the report is metadata-only, or the server's files disagree with the
   *     archive
   * @throws IOException if the store, the server or a local file cannot be read
   */
  public Optional<String> purgeSource(DataSource dataSource, Path binlogDir, VerifyReport verified, boolean apply)
      throws IOException {
    Objects.requireNonNull(dataSource, "dataSource");
    Objects.requireNonNull(binlogDir, "binlogDir");
    Objects.requireNonNull(verified, "verified");
    return SourcePurge.run(survey(null), dataSource, binlogDir, verified, apply);
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private ExecutorService pool(String name) {
    return new WorkerPool(parallelism, name);
  }

  /** A fixed pool of daemon threads that remembers them, so {@link #joinWorkers} can wait for each to end. */
  private static final class WorkerPool extends ThreadPoolExecutor {
    final List<Thread> threads = Collections.synchronizedList(new ArrayList<>());

    WorkerPool(int size, String name) {
      super(size, size, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>());
      AtomicInteger n = new AtomicInteger();
      setThreadFactory(r -> {
        Thread t = new Thread(r, name + "-" + n.incrementAndGet());
        t.setDaemon(true);
        threads.add(t);
        return t;
      });
    }
  }

  /**
   * Stops a pool's workers (interrupting them) and waits until every one has ended, however long
   * that takes: a read-side call never returns or throws while its threads still touch the store
   * or the local disk. An interrupt of the caller is kept for after the wait.
   */
  static void joinWorkers(ExecutorService pool) {
    pool.shutdownNow();
    boolean interrupted = false;
    long waited = 0;
    while (true) {
      try {
        if (pool.awaitTermination(10, TimeUnit.SECONDS)) {
          break;
        }
        waited += 10;
        LOG.atWarn().log("still waiting for the workers of {} to end after {} s", pool, waited);
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (pool instanceof WorkerPool w) {
      for (Thread t : List.copyOf(w.threads)) {
        while (t.isAlive()) { // terminated already: each thread is only leaving its run method
          try {
            t.join();
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
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
    private CodecRegistry codecs = CodecRegistry.builtIns();
    private final List<Transform> addedCodecs = new ArrayList<>();
    private int parallelism = Math.min(2, Runtime.getRuntime().availableProcessors());
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private Listener listener = new Listener() {};
    private UsableSpace usableSpace = dir -> Files.getFileStore(dir).getUsableSpace();
    private boolean syncFetchedFiles;
    private boolean allowUnencrypted;

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
     *     needed only when the archive is encrypted, and must know every key id it uses. With it the
     *     reader refuses unencrypted artifacts unless {@link #allowUnencrypted(boolean)}
     * @return this builder
     */
    public Builder keyProvider(KeyProvider keys) {
      this.decryption = Transform.aesGcm(Objects.requireNonNull(keys, "keys"));
      this.keys = keys;
      return this;
    }

    /**
     * Adds a codec the archive was written with besides the built-in ones, e.g. an embedder's own
     * {@link Transform} given to {@code Archiver.Builder.compression(...)}: artifacts whose sidecar
     * records its {@link Transform#id()} are then fetched, verified and rewrapped through its {@link
     * Transform#unwrap(java.io.InputStream)}. An embedder's own encryption layer (a sidecar's {@code
     * cipher}) is added the same way.
     *
     * @param codec the codec; its id must not be a built-in one or another added codec's
     * @return this builder
     */
    public Builder codec(Transform codec) {
      addedCodecs.add(Objects.requireNonNull(codec, "codec"));
      return this;
    }

    /**
     * The codecs this reader decodes (default {@link CodecRegistry#builtIns()}); codecs added with
     * {@link #codec(Transform)} come on top, whichever is called first. An artifact whose codec the
     * reader does not know fails with an {@link ArchiveException} naming the object, the binlog and
     * the id, before anything is downloaded.
     *
     * @param registry e.g. {@code CodecRegistry.builtIns().withServiceLoader()}
     * @return this builder
     */
    public Builder codecs(CodecRegistry registry) {
      this.codecs = Objects.requireNonNull(registry, "codecs");
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

    /**
     * Whether a reader with a {@link #keyProvider(KeyProvider) key provider} accepts artifacts that
     * are not encrypted (default {@code false}). By default such a reader refuses them: {@link
     * #fetch} fails with an {@link IntegrityException} naming the object and the binlog before
     * anything is downloaded, and {@link #verify(VerifyOptions)} reports each as {@link
     * ArchiveProblem.Kind#CORRUPT_ARTIFACT}. Whoever can write to the store could otherwise swap an
     * encrypted artifact and its sidecar for an unencrypted pair holding a binlog of their own, which
     * a restore would replay. Allow it only for an archive that turned encryption on midway. Without
     * a key provider this setting changes nothing: unencrypted artifacts are read, encrypted ones
     * fail.
     *
     * <p>Whatever this says, an encrypted artifact's header must name the key id (and codec) its
     * sidecar records, or it is refused as an {@link IntegrityException} naming the object.
     *
     * @param allow accept unencrypted artifacts although a key provider is set
     * @return this builder
     */
    public Builder allowUnencrypted(boolean allow) {
      this.allowUnencrypted = allow;
      return this;
    }

    /** For tests: what {@link #fetch} takes as the target directory's usable space. */
    Builder usableSpace(UsableSpace probe) {
      this.usableSpace = Objects.requireNonNull(probe, "usableSpace");
      return this;
    }

    /**
     * @return the reader
     * @throws IllegalArgumentException listing every missing setting, and every added codec whose id is taken
     */
    public ArchiveReader build() {
      List<String> problems = new ArrayList<>();
      CodecRegistry all = codecs;
      for (Transform c : addedCodecs) {
        try {
          all = all.with(c);
        } catch (IllegalArgumentException e) {
          problems.add(e.getMessage());
        }
      }
      if (sink == null) {
        problems.add("sink is required");
      }
      if (serverId == null) {
        problems.add("serverId is required");
      }
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException("invalid reader settings: " + String.join("; ", problems));
      }
      return new ArchiveReader(this, all);
    }
  }
}
