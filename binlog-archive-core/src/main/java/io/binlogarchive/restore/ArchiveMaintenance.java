package io.binlogarchive.restore;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Sidecar;
import io.binlogarchive.codec.CodecRegistry;
import io.binlogarchive.crypto.AesGcmTransform;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.internal.ArchiveLayout;
import io.binlogarchive.internal.binlog.BinlogNames;
import io.binlogarchive.restore.ArchiveReader.Listener;
import io.binlogarchive.store.Sink;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.store.StoredObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.function.Predicate;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The maintenance side of one server's archive: the base backup registry, retention ({@link
 * #prune}), key rotation ({@link #rewrap}) and purging the source server's binlogs ({@link
 * #purgeSource}). Unlike {@link ArchiveReader}'s plan, fetch and verify, these write to the store
 * or to the server.
 *
 * <p>Obtain it from a reader, which gives it its sink, prefix, server id, key provider, codecs,
 * parallelism, retry policy and listener:
 *
 * <pre>{@code
 * ArchiveReader reader = ArchiveReader.builder().sink(sink).serverId("db1").keyProvider(keys).build();
 * ArchiveMaintenance maintenance = reader.maintenance();
 * maintenance.registerBaseBackup(BaseBackup.of("nightly-2026-11-21", "mysql-bin.000042", 4));
 * PruneResult dryRun = maintenance.prune(RetentionPolicy.keepNewestBackups(2), false);
 * }</pre>
 *
 * <p>Instances are immutable and thread-safe; the sink stays the caller's.
 */
public final class ArchiveMaintenance {
  /** The reader's logger, so log configuration that names it keeps working. */
  private static final Logger LOG = LoggerFactory.getLogger(ArchiveReader.class);

  private final ArchiveReader reader;
  private final Sink sink;
  private final ArchiveLayout layout;
  private final KeyProvider keys;
  private final CodecRegistry codecs;
  private final RetryPolicy retryPolicy;
  private final Listener listener;

  ArchiveMaintenance(ArchiveReader reader) {
    this.reader = reader;
    this.sink = reader.sink;
    this.layout = reader.layout;
    this.keys = reader.keys;
    this.codecs = reader.codecs;
    this.retryPolicy = reader.retryPolicy;
    this.listener = reader.listener;
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
   * per file whatever its size. The segments of a file still open are moved too, each like a file
   * ({@code <file>.<start>.k<N><ext>}, its sidecar keeping its range); {@code which} sees each
   * segment's sidecar.
   *
   * <p>A crash at any point leaves every file restorable, at worst with one unreferenced artifact
   * beside it, which {@link ArchiveReader#verify(VerifyOptions)} reports as {@link
   * ArchiveProblem.Kind#REWRAP_LEFTOVER} (not a gap). Running the rewrap again finishes the job: it
   * adopts a new artifact that reads back under the new key, and deletes old artifacts that their
   * sidecar no longer names (in every file, selected or not). A file that fails is left as it was
   * and reported; the others go on.
   *
   * @param newKeys the provider the artifacts move to (its {@link KeyProvider#primaryKeyId()}); the
   *     reader's own {@link ArchiveReader.Builder#keyProvider(KeyProvider) key provider} unwraps the old keys
   * @param which which files to consider (e.g. {@code s -> "2025-01".equals(s.artifact().keyId())});
   *     unencrypted files and files already under the new key are skipped anyway
   * @param apply {@code false} for a dry run: listings and sidecars are read, nothing is written
   * @return what was (or would be) moved, and what could not be
   * @throws ArchiveException when applying without a reader key provider, or on a sink without
   *     conditional writes ({@link Sink#supportsConditionalWrites()})
   * @throws IOException if the store cannot be listed
   */
  public RewrapResult rewrap(KeyProvider newKeys, Predicate<Sidecar> which, boolean apply) throws IOException {
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
   * @param verified a recent {@link ArchiveReader#verify(VerifyOptions)} report of this archive, with {@link
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

  private ArchiveSurvey survey(VerifyState state) throws IOException {
    return reader.survey(state);
  }

  /** @return the archive's root key, {@code <prefix>/<server-id>} */
  public String root() {
    return layout.root();
  }

  @Override
  public String toString() {
    return "ArchiveMaintenance[" + reader + "]";
  }
}
