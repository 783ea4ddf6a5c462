package io.binlogarchive.restore;

import static io.binlogarchive.restore.RewrapNames.base;
import static io.binlogarchive.restore.RewrapNames.parse;

import io.binlogarchive.restore.RewrapNames.Name;

import io.binlogarchive.internal.decode.ReadBack;
import io.binlogarchive.internal.pipeline.ArtifactWriter;
import io.binlogarchive.ArchiveException;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.RetryPolicy;
import io.binlogarchive.Sidecar;
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
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store changes of a {@link ArchiveRewrap rewrap}, one artifact at a time: moving an artifact
 * to the new key in the three steps described there (write the new artifact or adopt an earlier
 * attempt's, read it back under the new key alone, switch the sidecar, delete the old artifact),
 * and deleting a leftover of an interrupted rewrap. Every store call goes through the reader's
 * retry policy. Thread-safe: the rewrap moves several files at once.
 */
final class RewrapWriter {
  private static final Logger LOG = LoggerFactory.getLogger(RewrapWriter.class);
  /** How many taken names (unusable leftovers of rewraps to other keys) are stepped over. */
  private static final int MAX_NAME_TRIES = 16;

  private final ArchiveRewrap.Context ctx;

  RewrapWriter(ArchiveRewrap.Context ctx) {
    this.ctx = ctx;
  }

  /**
   * Deletes an old artifact an interrupted rewrap left behind, after reading its sidecar again: it
   * must still name a higher generation.
   */
  boolean removeLeftover(ArchiveRewrap.Owner owner, ArchiveProblem p) throws IOException {
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
  RewrapResult.Move move(ArchiveRewrap.Todo t, KeyProvider to) throws IOException {
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
    Name name = t.current().next();
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
