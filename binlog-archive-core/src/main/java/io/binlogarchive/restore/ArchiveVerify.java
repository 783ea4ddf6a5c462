package io.binlogarchive.restore;

import static io.binlogarchive.restore.ReadWorkers.await;
import static io.binlogarchive.restore.ReadWorkers.joinWorkers;

import io.binlogarchive.Sidecar;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.internal.ArchiveLayout;
import io.binlogarchive.internal.decode.ArtifactDecoder;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@link ArchiveReader#verify(VerifyOptions)} does (its Javadoc is the contract): surveys the
 * archive, checks every artifact that changed since the state file's run (by size, or decoded in
 * parallel for a full verify), and writes the new state. Holds the reader's settings; as immutable
 * and thread-safe as it.
 */
final class ArchiveVerify extends ReaderTask {
  /** The reader's logger, so log configuration that names it keeps working. */
  private static final Logger LOG = LoggerFactory.getLogger(ArchiveReader.class);

  private final ArchiveLayout layout;

  ArchiveVerify(ArchiveReader reader) {
    super(reader);
    this.layout = reader.layout;
  }

  VerifyReport verify(VerifyOptions options) throws IOException {
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
      for (ArchiveSurvey.Entry e : survey.partials()) {
        checked++; // segments are checked every time: they are few and short-lived
        for (Sidecar seg : e.segments) {
          bytes += seg.artifact().size();
        }
        if (!e.usable()) {
          continue;
        }
        Sidecar plain = e.segments.stream().filter(this::refusesUnencrypted).findFirst().orElse(null);
        if (plain != null) { // whatever an earlier run without the key stored
          ArchiveProblem p = new ArchiveProblem(ArchiveProblem.Kind.CORRUPT_ARTIFACT, e.timeline, e.file,
              plain.artifact().key(), ArtifactDecoder.unencrypted(plain).getMessage());
          survey.markCorrupt(e, p);
          listener.fileVerified(e.sidecar, p);
          continue;
        }
        if (options.full()) {
          e.segments.forEach(this::decoders); // a reader that lacks a codec fails at once
          decodes.put(e, pool.submit(() -> {
            for (Sidecar seg : e.segments) {
              try {
                ArtifactDecoder.decode(sink, seg, decryption, codecs, allowUnencrypted, null, true);
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

  private static void remember(VerifyState state, ArchiveSurvey.Entry e, boolean full) {
    state.items.put(e.sidecarObject.key(), new VerifyState.Item(e.sidecarObject.size(), e.sidecarObject.lastModified(),
        e.artifact.key(), e.artifact.size(), e.artifact.lastModified(), full, Instant.now(), e.sidecar));
  }

}
