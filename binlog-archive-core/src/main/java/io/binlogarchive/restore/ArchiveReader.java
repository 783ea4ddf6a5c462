package io.binlogarchive.restore;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Sidecar;
import io.binlogarchive.codec.CodecRegistry;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.internal.ArchiveLayout;
import io.binlogarchive.store.FileSystemSink;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.spi.SettingsProblems;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;

/**
 * The read side of one server's archive: restore planning, verified fetching and whole-archive
 * verification. What writes to the store or the server (registering base backups, retention, key
 * rotation, source purge) is on {@link #maintenance()}, which shares this reader's settings.
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
 *
 * <p>This class holds the settings and the public entry points; a fetch runs in {@code
 * ArchiveFetch}, a verify in {@code ArchiveVerify}, the archive's listing in {@code ArchiveSurvey}
 * and the planning in {@code RestorePlanner} (all package-private). Most of its length is the
 * documented {@link Builder} and the Javadoc of {@link #fetch} and {@link #verify}, the contract an
 * embedder reads here.
 */
public final class ArchiveReader {
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
     * An artifact was moved to the new key by {@link ArchiveMaintenance#rewrap(KeyProvider,
     * java.util.function.Predicate, boolean)}: its sidecar names the new artifact and the old one
     * is deleted.
     *
     * @param move what moved
     */
    default void fileRewrapped(RewrapResult.Move move) {}
  }

  final Sink sink;
  final ArchiveLayout layout;
  final String serverId;
  final Transform decryption;
  final KeyProvider keys;
  final int parallelism;
  final RetryPolicy retryPolicy;
  final Listener listener;
  final UsableSpace usableSpace;
  final boolean syncFetchedFiles;
  final boolean allowUnencrypted;
  final CodecRegistry codecs;

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

  /**
   * The maintenance side of this archive, with this reader's settings: base backup registry,
   * retention, key rotation and source purge.
   *
   * @return a facade over the same sink, prefix, server id, keys and listener
   */
  public ArchiveMaintenance maintenance() {
    return new ArchiveMaintenance(this);
  }

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
    return plan(maintenance().baseBackup(backupName), target);
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
    return RestorePlanner.planFromNewestStart(survey(null), maintenance().baseBackups(), target);
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
      ReadWorkers.joinWorkers(pool);
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
    return new ArchiveFetch(this).fetch(plan, directory);
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
    return new ArchiveVerify(this).verify(options);
  }

  // ---- plumbing -------------------------------------------------------------------------------

  ExecutorService pool(String name) {
    return ReadWorkers.pool(parallelism, name);
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
      SettingsProblems problems = new SettingsProblems();
      CodecRegistry all = codecs;
      for (Transform c : addedCodecs) {
        try {
          all = all.with(c);
        } catch (IllegalArgumentException e) {
          problems.add(e.getMessage());
        }
      }
      problems.unless(sink != null, "sink is required")
          .unless(serverId != null, "serverId is required")
          .throwIfAny(p -> new IllegalArgumentException("invalid reader settings: " + p));
      return new ArchiveReader(this, all);
    }
  }
}
