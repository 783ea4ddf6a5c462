package io.binlogarchive.restore;

import static io.binlogarchive.restore.RewrapNames.base;
import static io.binlogarchive.restore.RewrapNames.parse;

import io.binlogarchive.restore.RewrapNames.Name;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Sidecar;
import io.binlogarchive.codec.CodecRegistry;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.store.Sink;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.Predicate;
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
 *
 * <p>This class plans a run (what to move, which leftovers to delete) and runs the moves in
 * parallel; {@code RewrapWriter} makes the store changes of one move or one deletion, and {@code
 * RewrapNames} holds the naming of generations and the recognition of leftovers, which the survey
 * shares.
 */
final class ArchiveRewrap {
  private static final Logger LOG = LoggerFactory.getLogger(ArchiveRewrap.class);

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

  private final Context ctx;
  private final RewrapWriter writer;

  ArchiveRewrap(Context ctx) {
    this.ctx = ctx;
    this.writer = new RewrapWriter(ctx);
  }

  /**
   * Something to do for one artifact, a whole file's or a segment's: where its sidecar is and what
   * the survey read in it.
   */
  record Todo(String timeline, String file, String sidecarKey, Sidecar sidecar, Name current) {}

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
          if (writer.removeLeftover(superseded(survey, p), p)) {
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
          futures.put(t, pool.submit(() -> writer.move(t, to)));
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
  record Owner(String sidecarKey, String base) {}

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
}
