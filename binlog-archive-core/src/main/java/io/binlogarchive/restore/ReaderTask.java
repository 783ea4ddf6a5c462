package io.binlogarchive.restore;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.Sidecar;
import io.binlogarchive.codec.CodecRegistry;
import io.binlogarchive.codec.Transform;
import io.binlogarchive.internal.decode.ArtifactDecoder;
import io.binlogarchive.store.Sink;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ExecutorService;

/**
 * What {@link ArchiveFetch} and {@link ArchiveVerify} share: their reader's decoding settings, which
 * codecs decode an artifact, whether an unencrypted one is refused, and the reader's survey and
 * worker pools.
 */
abstract class ReaderTask {
  final ArchiveReader reader;
  final Sink sink;
  final Transform decryption;
  final CodecRegistry codecs;
  final boolean allowUnencrypted;
  final ArchiveReader.Listener listener;

  ReaderTask(ArchiveReader reader) {
    this.reader = reader;
    this.sink = reader.sink;
    this.decryption = reader.decryption;
    this.codecs = reader.codecs;
    this.allowUnencrypted = reader.allowUnencrypted;
    this.listener = reader.listener;
  }

  /**
   * The transforms that decode {@code s}'s artifact.
   *
   * @throws ArchiveException naming the object, the binlog and the id, if this reader lacks its codec or cipher
   */
  final List<Transform> decoders(Sidecar s) {
    return ArtifactDecoder.transforms(s, s.artifact().keyId(), decryption, allowUnencrypted, codecs);
  }

  /** Whether this reader holds a key, does not allow unencrypted artifacts, and {@code s} is one. */
  final boolean refusesUnencrypted(Sidecar s) {
    return decryption != null && !allowUnencrypted && s.artifact().cipher() == null;
  }

  final ArchiveSurvey survey(VerifyState state) throws IOException {
    return reader.survey(state);
  }

  final ExecutorService pool(String name) {
    return reader.pool(name);
  }
}
