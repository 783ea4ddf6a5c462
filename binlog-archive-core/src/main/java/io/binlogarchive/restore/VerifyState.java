package io.binlogarchive.restore;

import io.binlogarchive.Sidecar;
import io.binlogarchive.internal.FsSync;
import io.binlogarchive.internal.Json;
import io.binlogarchive.store.StoredObject;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The local memory of {@link ArchiveReader#verify(VerifyOptions)}: for every sidecar verified, its
 * size and last-modified time, its artifact's, whether the artifact was decoded, and the sidecar
 * itself (so unchanged sidecars are not downloaded again). Written with temp file, fsync, rename.
 */
final class VerifyState {
  static final int VERSION = 1;

  @JsonInclude(JsonInclude.Include.NON_NULL)
  record Item(
      @JsonProperty("sidecar_size") long sidecarSize,
      @JsonProperty("sidecar_modified") Instant sidecarModified,
      @JsonProperty("artifact_key") String artifactKey,
      @JsonProperty("artifact_size") long artifactSize,
      @JsonProperty("artifact_modified") Instant artifactModified,
      @JsonProperty("full") boolean full,
      @JsonProperty("verified_at") Instant verifiedAt,
      @JsonProperty("sidecar") Sidecar sidecar) {}

  record Doc(
      @JsonProperty("version") int version,
      @JsonProperty("archive") String archive,
      @JsonProperty("items") Map<String, Item> items) {}

  final String archive;
  final Map<String, Item> items;

  private VerifyState(String archive, Map<String, Item> items) {
    this.archive = archive;
    this.items = items;
  }

  static VerifyState empty(String archive) {
    return new VerifyState(archive, new TreeMap<>());
  }

  /** Loads the state; a missing file, another archive's file, or an unreadable one starts afresh. */
  static VerifyState load(Path file, String archive) {
    if (file == null || !Files.isRegularFile(file)) {
      return empty(archive);
    }
    try {
      Doc d = Json.MAPPER.readValue(file.toFile(), Doc.class);
      if (d == null || d.version() != VERSION || !archive.equals(d.archive()) || d.items() == null) {
        return empty(archive);
      }
      return new VerifyState(archive, new TreeMap<>(d.items()));
    } catch (IOException e) {
      return empty(archive);
    }
  }

  static boolean same(StoredObject o, long size, Instant modified) {
    return o != null && o.size() == size && Objects.equals(o.lastModified(), modified) && modified != null;
  }

  /** The remembered sidecar, if its object has not changed since. */
  Sidecar sidecar(StoredObject sidecarObject) {
    Item i = items.get(sidecarObject.key());
    return i != null && i.sidecar() != null && same(sidecarObject, i.sidecarSize(), i.sidecarModified()) ? i.sidecar() : null;
  }

  /** Whether the artifact was verified (decoded, if {@code full}) and has not changed since. */
  boolean verified(StoredObject sidecarObject, StoredObject artifact, boolean full) {
    Item i = items.get(sidecarObject.key());
    return i != null && same(sidecarObject, i.sidecarSize(), i.sidecarModified()) && artifact != null
        && artifact.key().equals(i.artifactKey()) && same(artifact, i.artifactSize(), i.artifactModified())
        && (i.full() || !full);
  }

  void save(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    LocalFiles.createPrivateDirectories(dir);
    byte[] json = Json.MAPPER.writeValueAsBytes(new Doc(VERSION, archive, items));
    LocalFiles.Temp tmp = LocalFiles.createTemp(dir, file.getFileName().toString());
    try {
      try (FileChannel ch = tmp.channel()) {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(json);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      LocalFiles.moveIntoPlace(tmp.path(), file.toAbsolutePath());
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp.path());
      throw e;
    }
    FsSync.directory(dir);
  }
}
