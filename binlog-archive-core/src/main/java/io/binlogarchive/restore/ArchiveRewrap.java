package io.binlogarchive.restore;

import io.binlogarchive.internal.decode.ReadBack;
import io.binlogarchive.internal.pipeline.ArtifactWriter;
import io.binlogarchive.ArchiveException;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Sidecar;
import io.binlogarchive.codec.CodecRegistry;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.internal.CryptoAccess;
import io.binlogarchive.crypto.DataKey;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.internal.CountingInputStream;
import io.binlogarchive.internal.Digests;
import io.binlogarchive.internal.decode.ArtifactDecoder;
import io.binlogarchive.internal.pipeline.ArchivePipeline;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.store.spi.PreconditionFailedException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves encrypted artifacts to another key (the engine of {@link ArchiveMaintenance#rewrap}), one file
 * at a time, each in three steps that keep the archive restorable if the process dies between any
 * two of them:
 *
 * <ol>
 *   <li>Stream the old artifact through {@code AesGcmTransform.rewrap} into a <em>new</em> object,
 *       {@code <file>.k<N><ext>} (the N-th rewrap; sinks never overwrite), then read it back with a
 *       provider that holds only the new key: decrypt, decompress, plaintext SHA-256 against the
 *       sidecar. A crash leaves an unreferenced new artifact beside the intact old pair.
 *   <li>Replace the sidecar with one naming the new artifact, conditionally on the version read
 *       before step 1 ({@link Sink#replace}), so a concurrent change is detected, not overwritten.
 *   <li>Delete the old artifact, conditionally on its version. A crash before this leaves the old
 *       artifact unreferenced beside the new pair.
 * </ol>
 *
 * <p>Both kinds of leftover are recognised by name (same file, same extensions, another rewrap
 * generation) and sidecar content (it names the other one): {@link ArchiveSurvey} reports them as
 * {@link ArchiveProblem.Kind#REWRAP_LEFTOVER}, which does not break a window. A re-run adopts a
 * new artifact that verifies under the target key, and deletes old artifacts of a lower generation
 * than the one their sidecar names: sidecars only ever move to higher generations, so such an
 * object can never be referenced again. Nothing plaintext touches a disk: the only object written
 * is ciphertext, and verification hashes the plaintext in memory.
 */
final class ArchiveRewrap {
  private static final Logger LOG = LoggerFactory.getLogger(ArchiveRewrap.class);
  /** {@code .k<N>} right after the file name: the artifact of the N-th rewrap. */
  private static final Pattern GENERATION = Pattern.compile("\\.k([1-9][0-9]{0,8})(\\..+)");
  /** How many taken names (unusable leftovers of rewraps to other keys) are stepped over. */
  private static final int MAX_NAME_TRIES = 16;

  /** What the engine needs from the reader. */
  interface Context {
    Sink sink();

    RetryPolicy retryPolicy();

    /** Unwraps the old data keys; may be null (then only a dry run is possible). */
    KeyProvider keys();

    /** Decode the inner codec when the new artifact is read back. */
    CodecRegistry codecs();

    ArchiveReader.Listener listener();

    ArchiveSurvey survey() throws IOException;

    ExecutorService pool(String name);
  }

  /**
   * An artifact key split at the file name: {@code dir + file + [".k" + generation] + extension}.
   */
  record Name(String dir, String file, int generation, String extension) {
    String key() {
      return dir + file + (generation == 0 ? "" : ".k" + generation) + extension;
    }

    Name next() {
      return new Name(dir, file, generation + 1, extension);
    }

    boolean encrypted() {
      return extension.endsWith(".aes");
    }
  }

  /** @return the parts of {@code key}, an artifact of {@code file}, or null if it is not named so */
  static Name parse(String file, String key) {
    int slash = key.lastIndexOf('/');
    String dir = key.substring(0, slash + 1);
    String name = key.substring(slash + 1);
    if (!name.startsWith(file + ".")) {
      return null;
    }
    String rest = name.substring(file.length());
    Matcher m = GENERATION.matcher(rest);
    if (m.matches()) {
      return new Name(dir, file, Integer.parseInt(m.group(1)), m.group(2));
    }
    return new Name(dir, file, 0, rest);
  }

  /**
   * The part of an artifact's name before its rewrap generation and extensions: the binlog's name,
   * or for a segment ({@link Sidecar#segment()} set) the name and its 20-digit start offset.
   */
  static String base(Sidecar s) {
    return s.segment() == null ? s.file() : s.file() + "." + String.format(java.util.Locale.ROOT, "%020d",
        s.segment().start());
  }

  /**
   * Whether {@code other}, an artifact nobody references, is a leftover of an interrupted rewrap
   * of the file {@code sidecar} describes.
   *
   * @return the problem to report instead of an orphan, or null if it is not such a leftover
   */
  static ArchiveProblem leftover(Sidecar sidecar, StoredObject referenced, StoredObject other) {
    if (sidecar == null || referenced == null || sidecar.artifact().cipher() == null) {
      return null;
    }
    Name current = parse(base(sidecar), sidecar.artifact().key());
    Name extra = parse(base(sidecar), other.key());
    if (current == null || extra == null || !current.dir().equals(extra.dir()) || !current.encrypted()
        || !current.extension().equals(extra.extension()) || current.generation() == extra.generation()) {
      return null;
    }
    String timeline = sidecar.timeline();
    String message = extra.generation() < current.generation()
        ? "artifact " + other.key() + " is what " + sidecar.file() + " was stored as before a key rotation"
            + " (rewrap) moved it to " + current.key() + ", which its sidecar names; the rewrap stopped before"
            + " deleting it. Restores are unaffected; running the rewrap again deletes it"
        : "artifact " + other.key() + " was written by a key rotation (rewrap) that stopped before switching the"
            + " sidecar of " + sidecar.file() + " to it; the sidecar still names " + current.key() + ", which"
            + " restores use. Running the rewrap to the same key again finishes the move";
    return new ArchiveProblem(ArchiveProblem.Kind.REWRAP_LEFTOVER, timeline, sidecar.file(), other.key(), message);
  }

  private final Context ctx;

  ArchiveRewrap(Context ctx) {
    this.ctx = ctx;
  }

  /**
   * Something to do for one artifact, a whole file's or a segment's: where its sidecar is and what
   * the survey read in it.
   */
  private record Todo(String timeline, String file, String sidecarKey, Sidecar sidecar, Name current) {}

  RewrapResult run(KeyProvider to, Predicate<Sidecar> which, boolean apply) throws IOException {
    Objects.requireNonNull(to, "newKeys");
    Objects.requireNonNull(which, "which");
    long t0 = System.nanoTime();
    Sink sink = ctx.sink();
    String target = to.primaryKeyId();
    if (apply) {
      if (ctx.keys() == null) {
        throw new ArchiveException("cannot rewrap: the reader has no KeyProvider to unwrap the old data keys; build"
            + " it with keyProvider(...) holding the old keys");
      }
      if (!sink.supportsConditionalWrites()) {
        throw new ArchiveException("cannot rewrap in " + sink.describe() + ": it has no conditional writes, and a"
            + " sidecar may only be switched to a new artifact by a compare-and-swap replace");
      }
    }
    ArchiveSurvey survey = ctx.survey();
    List<Todo> todo = new ArrayList<>();
    List<ArchiveProblem> problems = new ArrayList<>();
    int onTarget = 0;
    int plain = 0;
    int notSelected = 0;
    List<ArchiveSurvey.Entry> entries = new ArrayList<>(survey.all());
    entries.addAll(survey.partials()); // files still open, archived as segments so far
    for (ArchiveSurvey.Entry e : entries) {
      if (e.sidecarObject == null) {
        continue; // an orphan artifact: readers ignore it, so does rewrap
      }
      if (e.sidecar == null) {
        problems.add(e.problem);
        continue;
      }
      // a file still open is stored as segments, each with its own sidecar and artifact
      List<Sidecar> each = e.segments != null ? e.segments : List.of(e.sidecar);
      for (Sidecar sc : each) {
        if (!which.test(sc)) {
          notSelected++;
          continue;
        }
        Sidecar.Artifact a = sc.artifact();
        if (a.cipher() == null) {
          plain++;
        } else if (target.equals(a.keyId())) {
          onTarget++;
        } else if (!e.usable()) {
          problems.add(e.problem);
        } else {
          Name current = parse(base(sc), a.key());
          if (current == null || !current.encrypted()) {
            problems.add(new ArchiveProblem(ArchiveProblem.Kind.INVALID_SIDECAR, e.timeline, e.file, a.key(),
                "sidecar of " + base(sc) + " names artifact " + a.key() + ", which is not named " + base(sc)
                    + "<ext>.aes; it is not rewrapped"));
          } else {
            String sidecarKey = e.segments != null ? current.dir() + current.file() + ".json" : e.sidecarObject.key();
            todo.add(new Todo(e.timeline, e.file, sidecarKey, sc, current));
          }
        }
      }
    }
    List<ArchiveProblem> leftovers = new ArrayList<>();
    for (ArchiveProblem p : survey.problems) {
      if (p.kind() == ArchiveProblem.Kind.REWRAP_LEFTOVER && superseded(survey, p) != null) {
        leftovers.add(p);
      }
    }
    List<RewrapResult.Move> moved = new ArrayList<>();
    List<RewrapResult.Failure> failures = new ArrayList<>();
    List<String> removed = new ArrayList<>();
    if (!apply) {
      for (Todo t : todo) {
        Sidecar.Artifact a = t.sidecar.artifact();
        moved.add(new RewrapResult.Move(t.timeline, t.file, a.keyId(), target, a.key(), t.current.next().key(),
            a.size(), false));
      }
      leftovers.forEach(p -> removed.add(p.objectKey()));
    } else {
      for (ArchiveProblem p : leftovers) {
        try {
          if (removeLeftover(survey, p)) {
            removed.add(p.objectKey());
          }
        } catch (IOException | ArchiveException x) {
          failures.add(new RewrapResult.Failure(p.timeline(), p.file(), p.objectKey(), "leftover " + p.objectKey()
              + " of an interrupted rewrap could not be deleted: " + x.getMessage() + "; restores are unaffected"));
        }
      }
      ExecutorService pool = ctx.pool("binlog-archive-rewrap");
      try {
        Map<Todo, Future<RewrapResult.Move>> futures = new LinkedHashMap<>();
        for (Todo t : todo) {
          futures.put(t, pool.submit(() -> move(t, to)));
        }
        for (var f : futures.entrySet()) {
          Todo e = f.getKey();
          try {
            RewrapResult.Move m = f.getValue().get();
            moved.add(m);
          } catch (ExecutionException x) {
            Throwable c = x.getCause();
            if (!(c instanceof IOException || c instanceof ArchiveException || c instanceof UncheckedIOException)) {
              if (c instanceof RuntimeException re) {
                throw re;
              }
              if (c instanceof Error err) {
                throw err;
              }
              throw new IOException(c);
            }
            String message = Objects.toString(c.getMessage(), c.getClass().getSimpleName());
            LOG.atWarn().addKeyValue("binlog_filename", e.file).log("rewrap of {}/{} failed: {}", e.timeline,
                e.sidecar.artifact().key(), message);
            failures.add(new RewrapResult.Failure(e.timeline, e.file, e.sidecar.artifact().key(), message));
          } catch (InterruptedException x) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while rewrapping", x);
          }
        }
      } finally {
        ReadWorkers.joinWorkers(pool);
      }
    }
    RewrapResult result = new RewrapResult(apply, target, moved, removed, failures, problems, onTarget, plain,
        notSelected, Duration.ofNanos(System.nanoTime() - t0));
    LOG.atInfo().addKeyValue("files_moved", moved.size()).addKeyValue("failures", failures.size())
        .log("{} {} artifact(s) to key id '{}'; {} leftover(s) removed, {} failure(s), {} already on it",
            apply ? "rewrapped" : "dry run: would rewrap", moved.size(), target, removed.size(), failures.size(),
            onTarget);
    return result;
  }

  /** Whose leftover an artifact is: the sidecar's key and the base of the names (see {@link #base}). */
  private record Owner(String sidecarKey, String base) {}

  /** @return the owner of the leftover, if its sidecar names a higher generation than it; else null */
  private static Owner superseded(ArchiveSurvey survey, ArchiveProblem p) {
    for (ArchiveSurvey.Entry e : survey.entries.getOrDefault(p.timeline(), List.of())) {
      if (e.file.equals(p.file()) && e.sidecar != null) {
        Sidecar owner = null;
        String sidecarKey = e.sidecarObject == null ? null : e.sidecarObject.key();
        if (e.segments == null) {
          owner = e.sidecar;
        } else {
          for (Sidecar sc : e.segments) {
            Name n = parse(base(sc), sc.artifact().key());
            if (n != null && p.objectKey().startsWith(n.dir() + base(sc) + ".")) {
              owner = sc;
              sidecarKey = n.dir() + base(sc) + ".json";
            }
          }
        }
        if (owner == null || sidecarKey == null) {
          return null;
        }
        Name current = parse(base(owner), owner.artifact().key());
        Name extra = parse(base(owner), p.objectKey());
        return current != null && extra != null && extra.generation() < current.generation()
            ? new Owner(sidecarKey, base(owner)) : null;
      }
    }
    return null;
  }

  /**
   * Deletes an old artifact an interrupted rewrap left behind, after reading its sidecar again: it
   * must still name a higher generation.
   */
  private boolean removeLeftover(ArchiveSurvey survey, ArchiveProblem p) throws IOException {
    Owner owner = superseded(survey, p);
    Sink sink = ctx.sink();
    Sidecar now = readSidecar(owner.sidecarKey());
    Name current = parse(owner.base(), now.artifact().key());
    Name extra = parse(owner.base(), p.objectKey());
    if (current == null || extra == null || extra.generation() >= current.generation()) {
      return false;
    }
    Optional<StoredObject> o = call("stat " + p.objectKey(), () -> sink.stat(p.objectKey()));
    if (o.isEmpty()) {
      return false;
    }
    try {
      call("delete " + p.objectKey(), () -> {
        sink.delete(p.objectKey(), o.get().version());
        return null;
      });
    } catch (PreconditionFailedException x) {
      return false; // gone or changed meanwhile: not ours to delete any more
    }
    LOG.atInfo().addKeyValue("binlog_filename", p.file())
        .log("deleted {}, left by an interrupted rewrap (the sidecar names {})", p.objectKey(), now.artifact().key());
    return true;
  }

  /** Moves one file's artifact: new artifact, read back, sidecar switch, old artifact deleted. */
  private RewrapResult.Move move(Todo t, KeyProvider to) throws IOException {
    Sink sink = ctx.sink();
    String sidecarKey = t.sidecarKey();
    // The version first, then the content: if the sidecar changes in between, the replace fails.
    StoredObject sidecarObject = call("stat " + sidecarKey, () -> sink.stat(sidecarKey))
        .orElseThrow(() -> new NotFoundException("sidecar " + sidecarKey + " vanished; nothing changed"));
    Sidecar s = readSidecar(sidecarKey);
    String oldKey = s.artifact().key();
    if (!oldKey.equals(t.sidecar().artifact().key())
        || !Objects.equals(s.artifact().keyId(), t.sidecar().artifact().keyId())) {
      throw new ArchiveException("sidecar " + sidecarKey + " changed while rewrapping (it names " + oldKey
          + " under key id '" + s.artifact().keyId() + "' now); nothing changed, run the rewrap again");
    }
    StoredObject oldObject = call("stat " + oldKey, () -> sink.stat(oldKey))
        .orElseThrow(() -> new NotFoundException("artifact " + oldKey + " of " + s.file() + " is missing"));
    KeyProvider onlyNew = onlyPrimary(to);
    // the read-back must be able to decode the inner codec: find out before anything is written
    ArtifactDecoder.transforms(s, to.primaryKeyId(), Transform.aesGcm(onlyNew), false, ctx.codecs());
    Name name = t.current.next();
    Placed placed = null;
    for (int i = 0; i < MAX_NAME_TRIES && placed == null; i++, name = name.next()) {
      placed = place(s, oldKey, name.key(), to, onlyNew);
    }
    if (placed == null) {
      throw new ArchiveException("cannot rewrap " + oldKey + ": the next " + MAX_NAME_TRIES + " rewrap names after it"
          + " are taken by artifacts that do not verify under key id '" + to.primaryKeyId() + "'");
    }
    String newKey = placed.stored.key();
    Sidecar moved = withArtifact(s, placed, to.primaryKeyId());
    try {
      call("replace " + sidecarKey, () -> sink.replace(sidecarKey, sidecarObject.version(), moved.toJson()));
    } catch (PreconditionFailedException x) {
      Sidecar now = readSidecar(sidecarKey);
      if (!now.artifact().key().equals(newKey)) {
        throw new ArchiveException("sidecar " + sidecarKey + " changed while rewrapping; it was not replaced and"
            + " still names " + now.artifact().key() + ". The new artifact " + newKey + " is left unreferenced;"
            + " run the rewrap again", x);
      }
      // an earlier attempt of this call (response lost), or a concurrent rewrap, switched it already
    }
    LOG.atInfo().addKeyValue("binlog_filename", s.file())
        .log("sidecar {} now names {} (key id '{}')", sidecarKey, newKey, to.primaryKeyId());
    try {
      call("delete " + oldKey, () -> {
        sink.delete(oldKey, oldObject.version());
        return null;
      });
    } catch (PreconditionFailedException x) {
      if (call("stat " + oldKey, () -> sink.stat(oldKey)).isPresent()) {
        LOG.atWarn().addKeyValue("binlog_filename", s.file()).log("old artifact {} changed while rewrapping and was"
            + " kept; it is no longer referenced", oldKey);
      }
    } catch (IOException | ArchiveException x) {
      throw new ArchiveException("the sidecar of " + s.file() + " now names " + newKey + " (key id '"
          + to.primaryKeyId() + "'), but the old artifact " + oldKey + " could not be deleted ("
          + Objects.toString(x.getMessage(), x.getClass().getSimpleName()) + "); it is an unreferenced leftover that"
          + " running the rewrap again deletes", x);
    }
    RewrapResult.Move m = new RewrapResult.Move(t.timeline(), s.file(), s.artifact().keyId(), to.primaryKeyId(), oldKey,
        newKey, placed.size, placed.resumed);
    try {
      ctx.listener().fileRewrapped(m);
    } catch (RuntimeException x) {
      LOG.warn("rewrap listener failed on {}: {}", s.file(), x.toString());
    }
    return m;
  }

  /** A verified new artifact. */
  private record Placed(StoredObject stored, long size, String sha256, boolean resumed) {}

  /**
   * Writes the rewrapped artifact under {@code newKey}, or adopts what an interrupted earlier run
   * wrote there; either way reads it back under the new key alone.
   *
   * @return the verified artifact, or null if the name is taken by something that is not it
   */
  private Placed place(Sidecar s, String oldKey, String newKey, KeyProvider to, KeyProvider onlyNew)
      throws IOException {
    Sink sink = ctx.sink();
    boolean resumed = call("stat " + newKey, () -> sink.stat(newKey)).isPresent();
    Written w = null;
    if (!resumed) {
      try {
        w = call("rewrap " + oldKey, () -> write(s, oldKey, newKey, to));
      } catch (ObjectExistsException x) {
        resumed = true; // appeared meanwhile: an earlier attempt's commit, or a concurrent rewrap
      }
    }
    ReadBack rb;
    try {
      rb = call("read back " + newKey, () -> ReadBack.of(sink, newKey, s.file(),
          ArtifactDecoder.transforms(s, to.primaryKeyId(), Transform.aesGcm(onlyNew), false, ctx.codecs()), s.size()));
    } catch (IntegrityException | NotFoundException x) {
      if (resumed) {
        LOG.atInfo().addKeyValue("binlog_filename", s.file()).log("{} exists but does not decode under key id '{}'"
            + " alone ({}); trying the next name", newKey, to.primaryKeyId(), x.getMessage());
        return null;
      }
      throw new IntegrityException("rewrapped artifact " + newKey + " does not read back under key id '"
          + to.primaryKeyId() + "': " + x.getMessage() + "; the sidecar still names " + oldKey, x);
    }
    if (rb.plaintextSize() != s.size() || !rb.plaintextSha256().equalsIgnoreCase(s.sha256())) {
      if (resumed) {
        LOG.atWarn().addKeyValue("binlog_filename", s.file()).log("{} exists but holds other content than {};"
            + " trying the next name", newKey, s.file());
        return null;
      }
      throw new IntegrityException("rewrapped artifact " + newKey + " decodes to " + rb.plaintextSize() + " bytes with"
          + " SHA-256 " + rb.plaintextSha256() + ", not the " + s.size() + " bytes with SHA-256 " + s.sha256()
          + " of " + s.file() + "; the sidecar still names " + oldKey);
    }
    if (w != null && (rb.artifactSize() != w.size || !rb.artifactSha256().equalsIgnoreCase(w.sha256))) {
      throw new IntegrityException("read-back of " + newKey + " gave " + rb.artifactSize() + " bytes with SHA-256 "
          + rb.artifactSha256() + "; " + w.size + " bytes with SHA-256 " + w.sha256 + " were written");
    }
    StoredObject stored = call("stat " + newKey, () -> sink.stat(newKey))
        .orElseThrow(() -> new NotFoundException("rewrapped artifact " + newKey + " vanished after writing"));
    if (stored.size() != rb.artifactSize()) {
      throw new IntegrityException("the store holds " + stored.size() + " bytes for " + newKey + ", but "
          + rb.artifactSize() + " were read back");
    }
    if (resumed) {
      LOG.atInfo().addKeyValue("binlog_filename", s.file()).addKeyValue("checksum_status", "adopted")
          .log("{} was written by an interrupted rewrap; it reads back under key id '{}' alone, adopted", newKey,
              to.primaryKeyId());
    }
    return new Placed(stored, rb.artifactSize(), rb.artifactSha256(), resumed);
  }

  private record Written(long size, String sha256) {}

  /** One pass: old artifact (hashed, every segment authenticated) to the new object (hashed). */
  private Written write(Sidecar s, String oldKey, String newKey, KeyProvider to) throws IOException {
    Sink sink = ctx.sink();
    MessageDigest oldDigest = Digests.sha256();
    try (InputStream raw = sink.open(oldKey);
        SinkWriter writer = sink.create(newKey, Map.of("binlog-file", s.file(), "archiver", ArchivePipeline.VERSION))) {
      CountingInputStream in = new CountingInputStream(new DigestInputStream(raw, oldDigest));
      ArtifactWriter.HashingOutputStream out = new ArtifactWriter.HashingOutputStream(writer);
      String keyId;
      try {
        keyId = CryptoAccess.rewrap(in, out, ctx.keys(), to, oldKey, s.artifact().keyId(), s.artifact().codec());
      } catch (IntegrityException x) {
        throw new IntegrityException("artifact " + oldKey + " of " + s.file() + " cannot be rewrapped: "
            + x.getMessage() + "; nothing was written", x);
      }
      String oldSha = Digests.hex(oldDigest.digest());
      if (in.count() != s.artifact().size()
          || (s.artifact().sha256() != null && !oldSha.equalsIgnoreCase(s.artifact().sha256()))) {
        throw new IntegrityException("artifact " + oldKey + " holds " + in.count() + " bytes with SHA-256 " + oldSha
            + "; its sidecar says " + s.artifact().size() + " bytes with SHA-256 " + s.artifact().sha256()
            + "; not rewrapped");
      }
      if (!keyId.equals(to.primaryKeyId())) {
        throw new ArchiveException("the new key provider wrapped " + oldKey + " under key id '" + keyId
            + "', not its primary key id '" + to.primaryKeyId() + "'; not rewrapped");
      }
      out.flush();
      writer.commit();
      return new Written(out.count(), out.sha256Hex());
    }
  }

  private Sidecar withArtifact(Sidecar s, Placed p, String keyId) {
    Sidecar.Artifact a = s.artifact();
    List<Map<String, Object>> transforms = null;
    if (a.transforms() != null) {
      transforms = new ArrayList<>();
      for (Map<String, Object> t : a.transforms()) {
        Map<String, Object> m = new LinkedHashMap<>(t);
        if (a.cipher() != null && a.cipher().equals(m.get("id"))) {
          m.put("key_id", keyId);
          m.put("rewrapped_from_key_id", a.keyId());
          m.put("rewrapped_at", Instant.now().toString());
        }
        transforms.add(m);
      }
    }
    Sidecar.Artifact moved = new Sidecar.Artifact(p.stored.key(), p.size, p.sha256, a.codec(), a.codecLevel(),
        a.cipher(), keyId, transforms, p.stored.checksums());
    return new Sidecar(s.formatVersion(), s.file(), s.sequence(), s.serverId(), s.timeline(), s.size(), s.sha256(),
        moved, s.binlog(), s.archivedAt(), s.archiver(), s.segment());
  }

  private Sidecar readSidecar(String key) throws IOException {
    return call("read " + key, () -> {
      try (InputStream in = ctx.sink().open(key)) {
        return Sidecar.parse(in.readNBytes(4 << 20), key);
      }
    });
  }

  private <T> T call(String what, RetryPolicy.IoCall<T> c) throws IOException {
    return ctx.retryPolicy().call(what, c);
  }

  /**
   * The new provider restricted to its primary key: reading back through it proves the artifact
   * restores with the new key alone.
   */
  static KeyProvider onlyPrimary(KeyProvider keys) {
    String id = keys.primaryKeyId();
    return new KeyProvider() {
      @Override
      public String primaryKeyId() {
        return id;
      }

      @Override
      public DataKey wrap(byte[] plaintextKey) {
        return keys.wrap(plaintextKey);
      }

      @Override
      public DataKey unwrap(String keyId, byte[] wrappedKey) {
        if (!id.equals(keyId)) {
          throw new NotFoundException("artifact is wrapped under key id '" + keyId + "', not the new key id '" + id
              + "'");
        }
        return keys.unwrap(keyId, wrappedKey);
      }

      @Override
      public String toString() {
        return "onlyPrimary(" + keys + ")";
      }
    };
  }
}
