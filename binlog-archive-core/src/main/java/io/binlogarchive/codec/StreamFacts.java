package io.binlogarchive.codec;

import java.util.Map;

/**
 * Implemented by a stream a {@link Transform} returns from {@code wrap} when the stream knows
 * facts about this one artifact that its transform's {@link Transform#describe()} cannot (e.g. the
 * id of the key that actually wrapped this artifact's data key, which a KMS may return in another
 * form than the configured alias). The pipeline records them in the sidecar, overriding {@code
 * describe()}.
 */
public interface StreamFacts {
  Map<String, Object> facts();
}
