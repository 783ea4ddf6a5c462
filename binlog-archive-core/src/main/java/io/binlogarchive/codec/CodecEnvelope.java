package io.binlogarchive.codec;

/**
 * A capability of an outer transform (an encryption layer) whose own authenticated framing records
 * which codec it encloses and which key it is under. The archiver asks it to record the codec; the
 * read side asks it to check an artifact's framing against the artifact's sidecar before any key
 * is unwrapped, so a sidecar and an artifact that do not belong together are refused.
 *
 * <p>A transform without this capability is used as it is on both sides.
 */
public interface CodecEnvelope {

  /**
   * @param codecId the {@link Transform#id()} of the codec applied before this transform
   * @return a copy of this transform that records {@code codecId} in every artifact it writes
   */
  Transform enclosing(String codecId);

  /**
   * @param object the artifact's object key, for errors
   * @param keyId the key id the sidecar records (null if none)
   * @param codecId the codec id the sidecar records
   * @return a copy of this transform whose {@code unwrap} refuses an artifact whose framing names
   *     another key id or codec, with an {@link io.binlogarchive.IntegrityException} naming {@code object}
   */
  Transform expecting(String object, String keyId, String codecId);
}
