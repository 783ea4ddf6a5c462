package io.binlogarchive.internal.pipeline;

import io.binlogarchive.Archiver;
import io.binlogarchive.ChainBreakException;
import io.binlogarchive.FileResult;
import io.binlogarchive.InvalidBinlogException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogFile;
import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.binlog.BinlogScanner;
import io.binlogarchive.internal.binlog.ScannerAccess;
import io.binlogarchive.internal.Digests;
import io.binlogarchive.store.StoredObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Archives one binlog for an {@link ArchivePipeline} run: in a dry run only plans it; when its
 * sidecar exists, proves the local file is the archived one; otherwise streams it through the
 * transforms to the sink, scanning its events on the way, and writes its sidecar once the artifact
 * is proven. A file still in use is left for a later run. Thread-safe: a run archives several files
 * at once.
 */
final class FileArchiver {
  private static final Logger LOG = LoggerFactory.getLogger(Archiver.class);

  private final PipelineSettings a;
  private final ArtifactWriter artifacts;

  FileArchiver(PipelineSettings settings) {
    this.a = settings;
    this.artifacts = new ArtifactWriter(settings);
  }

  /**
   * @param newerClosed whether a newer binlog than {@code f} is closed: then the server no longer
   *     writes {@code f}, and an in-use flag on it was left by a crash (see {@link #upload})
   */
  FileResult archive(BinlogFile f, String timeline, boolean newerClosed) throws IOException {
    long t0 = System.nanoTime();
    a.listener().fileStarted(f);
    String sidecarKey = a.layout().sidecarKey(timeline, f.name());
    if (a.mode() == Archiver.Mode.DRY_RUN) {
      if (a.retryPolicy().call("stat " + sidecarKey, () -> a.sink().stat(sidecarKey), this::retrying).isPresent()) {
        return new FileResult(f, FileResult.Status.ALREADY_ARCHIVED,
            "a sidecar exists (a real run compares its SHA-256 with the local file)", null, 0, since(t0));
      }
      return plan(f, newerClosed, t0);
    }
    Optional<Sidecar> existing = readSidecar(sidecarKey);
    if (existing.isPresent()) {
      return compareWithArchived(f, existing.get(), sidecarKey, t0);
    }
    FileResult uploaded =
        a.retryPolicy().call("archive " + f.name(), () -> upload(f, timeline, newerClosed, t0), this::retrying);
    if (uploaded.status() == FileResult.Status.ARCHIVED) {
      artifacts.writeSidecar(sidecarKey, uploaded.sidecar(), this::readSidecar);
      LOG.atInfo().addKeyValue("binlog_filename", f.name()).log("archived {}: sidecar {} written", f.name(), sidecarKey);
    }
    return uploaded;
  }

  private FileResult plan(BinlogFile f, boolean newerClosed, long t0) throws IOException {
    try (InputStream in = openLocal(f)) {
      byte[] head = in.readNBytes(4096);
      BinlogScanner scanner = new BinlogScanner(f.name(), a.failOnChecksumMismatch());
      scanner.update(head, 0, head.length);
      if (scanner.inUse() && !newerClosed) {
        return new FileResult(f, FileResult.Status.NOT_CLOSED, "in-use flag set", null, 0, since(t0));
      }
    }
    return new FileResult(f, FileResult.Status.PLANNED, "would archive " + Files.size(f.path()) + " bytes", null, 0,
        since(t0));
  }

  private Optional<Sidecar> readSidecar(String key) throws IOException {
    return a.retryPolicy().call(
        "read sidecar " + key,
        () -> {
          Optional<StoredObject> st = a.sink().stat(key);
          if (st.isEmpty()) {
            return Optional.empty();
          }
          try (InputStream in = a.sink().open(key)) {
            return Optional.of(Sidecar.parse(in.readNBytes(4 << 20), key));
          } catch (NotFoundException e) {
            return Optional.empty();
          }
        },
        this::retrying);
  }

  private FileResult compareWithArchived(BinlogFile f, Sidecar archived, String sidecarKey, long t0) throws IOException {
    MessageDigest d = Digests.sha256();
    long size = 0;
    try (InputStream in = openLocal(f)) {
      byte[] buf = new byte[a.bufferSize()];
      int n;
      while ((n = in.read(buf)) > 0) {
        d.update(buf, 0, n);
        size += n;
      }
    }
    String sha = Digests.hex(d.digest());
    if (size != archived.size() || !sha.equals(archived.sha256())) {
      throw new ChainBreakException(
          "local binlog " + f.path() + " (" + size + " bytes, SHA-256 " + sha + ") differs from the archived "
              + sidecarKey + " (" + archived.size() + " bytes, SHA-256 " + archived.sha256()
              + "); nothing was overwritten. If the server was rebuilt or RESET MASTER was run, start a new"
              + " timeline; otherwise find out why the file changed.");
    }
    LOG.atInfo()
        .addKeyValue("binlog_filename", f.name())
        .addKeyValue("bytes_processed", size)
        .addKeyValue("checksum_status", "matches_archive")
        .log("{} is already archived with the same SHA-256; skipped", f.name());
    return new FileResult(f, FileResult.Status.ALREADY_ARCHIVED, "already archived", archived, size, since(t0));
  }

  private InputStream openLocal(BinlogFile f) throws IOException {
    try {
      return Files.newInputStream(f.path());
    } catch (NoSuchFileException e) {
      throw new NotFoundException(
          "binlog " + f.name() + " listed by " + a.source().describe() + " does not exist at " + f.path());
    }
  }

  /**
   * Stores one binlog. A file whose FORMAT_DESCRIPTION_EVENT still carries the in-use flag is
   * refused while it is the newest closed file: during a rotation MariaDB clears the old file's
   * flag only after the new file is in the index. Once a newer binlog is closed too, the flag can
   * only have been left by a crash: the server recovers at restart before it opens its next binlog
   * and never writes the crashed file again (MariaDB 10.11 leaves it byte for byte as the crash
   * did, flag set, no ROTATE, perhaps ending inside an event). Such a file is archived as it is,
   * and its sidecar describes its complete events only ({@link BinlogScanner#finishCrashed()}).
   * MySQL instead truncates the crashed binlog to its last complete transaction at restart and
   * clears the flag: a closed file that ends between transactions without a ROTATE or STOP is
   * archived as it is too, with a warning. One that ends inside a transaction is refused.
   */
  private FileResult upload(BinlogFile f, String timeline, boolean newerClosed, long t0) throws IOException {
    String ext = extension();
    String artifactKey = a.layout().artifactKey(timeline, f.name(), ext);
    BinlogScanner scanner = new BinlogScanner(f.name(), a.failOnChecksumMismatch());
    byte[] buf = new byte[a.bufferSize()];
    try (InputStream in = openLocal(f)) {
      int n = in.readNBytes(buf, 0, buf.length);
      scanner.update(buf, 0, n);
      boolean crashed = scanner.inUse() && newerClosed;
      if (scanner.inUse() && !crashed) {
        LOG.atInfo()
            .addKeyValue("binlog_filename", f.name())
            .log("{} still has the in-use flag set (the server is writing it, or finishing a rotation);"
                + " not archived yet", f.name());
        return new FileResult(f, FileResult.Status.NOT_CLOSED,
            "in-use flag set in the FORMAT_DESCRIPTION_EVENT", null, n, since(t0));
      }
      if (crashed) {
        LOG.atWarn()
            .addKeyValue("binlog_filename", f.name())
            .log("{} still has the in-use flag set although newer binlogs are closed: the server crashed while"
                + " writing it and will not write it again; archiving it as the crash left it", f.name());
      }
      Map<String, String> meta = new LinkedHashMap<>();
      meta.put("binlog-file", f.name());
      meta.put("archiver", ArchivePipeline.VERSION);
      long uploadStart = System.nanoTime();
      int first = n;
      BinlogInfo[] info = new BinlogInfo[1];
      ArtifactWriter.Written w = artifacts.upload(artifactKey, f.name(), meta, out -> {
        out.write(buf, 0, first);
        int m;
        while ((m = in.read(buf)) > 0) {
          if (a.scanEvents()) {
            scanner.update(buf, 0, m);
          }
          out.write(buf, 0, m);
        }
        info[0] = !a.scanEvents() ? null : crashed ? ScannerAccess.finishCrashed(scanner) : scanner.finish();
        if (info[0] != null && !info[0].closed() && !crashed) {
          if (ScannerAccess.endedInsideTransaction(scanner)) {
            throw new InvalidBinlogException(
                f.name() + ": ends at offset " + info[0].endPosition() + " without a ROTATE or STOP event, inside a"
                    + " transaction: the file is truncated; not archived");
          }
          // The in-use flag is clear, newer binlogs exist and the file ends between two
          // transactions: what MySQL's crash recovery leaves when it truncates the crashed
          // binlog to its last complete transaction and clears the flag. The server will not
          // write it again.
          LOG.atWarn()
              .addKeyValue("binlog_filename", f.name())
              .log("{} ends at offset {} between transactions without a ROTATE or STOP event although newer"
                  + " binlogs exist: the server's crash recovery truncated it; archiving it as it is", f.name(),
                  info[0].endPosition());
        }
      }, a.mode() != Archiver.Mode.SHADOW, "local " + f.path(), ArtifactWriter.REFUSE);
      if (a.mode() == Archiver.Mode.SHADOW) {
        LOG.atInfo()
            .addKeyValue("binlog_filename", f.name())
            .addKeyValue("bytes_processed", w.plainSize())
            .log("shadow: {} went through the whole pipeline ({} -> {} bytes); nothing committed", f.name(),
                w.plainSize(), w.artifactSize());
        return new FileResult(f, FileResult.Status.SHADOWED, w.artifactSize() + " bytes, not committed", null,
            w.plainSize(), since(t0));
      }
      long uploadMs = Duration.ofNanos(System.nanoTime() - uploadStart).toMillis();
      Sidecar sidecar = new Sidecar(Sidecar.FORMAT_VERSION, f.name(), f.sequence(), a.serverId(), timeline, w.plainSize(),
          w.plainSha(), artifacts.describe(w), info[0], Instant.now(a.clock()), ArchivePipeline.VERSION);
      LOG.atInfo()
          .addKeyValue("binlog_filename", f.name())
          .addKeyValue("bytes_processed", w.plainSize())
          .addKeyValue("artifact_bytes", w.artifactSize())
          .addKeyValue("upload_duration_ms", uploadMs)
          .addKeyValue("checksum_status", "verified")
          .log("stored and verified {} as {}", f.name(), artifactKey);
      return new FileResult(f, FileResult.Status.ARCHIVED, artifactKey, sidecar, w.plainSize(), since(t0));
    }
  }

  private String extension() {
    return artifacts.extension();
  }

  private void retrying(String what, int attempt, Duration delay, Throwable error) {
    a.retrying(what, attempt, delay, error);
  }

  private static Duration since(long t0) {
    return Duration.ofNanos(System.nanoTime() - t0);
  }
}
