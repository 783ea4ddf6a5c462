package io.binlogarchive.internal.decode;

import io.binlogarchive.codec.Transform;
import io.binlogarchive.store.Sink;
import java.io.IOException;
import java.util.List;

/**
 * One artifact downloaded and decoded, both forms hashed: the proof behind {@code
 * Verifier.readBack()}, the segment writer's read-back and rewrap's check of each new object.
 *
 * @param artifactSize bytes in the store
 * @param artifactSha256 SHA-256 of those bytes (hex)
 * @param plaintextSize bytes after decoding
 * @param plaintextSha256 SHA-256 of the decoded bytes (hex)
 */
public record ReadBack(long artifactSize, String artifactSha256, long plaintextSize, String plaintextSha256) {
  /**
   * Decodes through the read side's one decode path, which stops one byte past {@code
   * declaredSize}: an artifact inflating beyond it is an {@link io.binlogarchive.IntegrityException}.
   *
   * @param sink where the artifact is
   * @param key the artifact's key
   * @param file the binlog's name, for errors
   * @param transforms the transforms applied, innermost (compression) first
   * @param declaredSize the binlog's size
   * @return the sizes and hashes
   * @throws IOException if the store cannot be read
   */
  public static ReadBack of(Sink sink, String key, String file, List<Transform> transforms, long declaredSize)
      throws IOException {
    ArtifactDecoder.Decoded d = ArtifactDecoder.read(sink, key, file, transforms, declaredSize, null, true);
    return new ReadBack(d.artifactBytes(), d.artifactSha256(), d.plaintextBytes(), d.plaintextSha256());
  }
}
