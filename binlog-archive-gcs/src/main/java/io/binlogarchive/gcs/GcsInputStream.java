package io.binlogarchive.gcs;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.store.spi.TranslatingInputStream;
import io.binlogarchive.gcs.GcsErrors.Op;
import java.io.IOException;
import java.io.InputStream;

/** Reads an object, turning the client's unchecked errors into {@link IOException}s. */
final class GcsInputStream extends TranslatingInputStream {
  private final String bucket;
  private final String name;

  GcsInputStream(InputStream in, String bucket, String name) {
    super(in);
    this.bucket = bucket;
    this.name = name;
  }

  /**
   * Translates in {@link GcsErrors}; an object that disappears mid-read becomes a plain {@link
   * IOException} saying so, since the open already proved it existed.
   */
  @Override
  protected IOException translate(Exception e) {
    ArchiveException t = GcsErrors.translate(Op.READ, bucket, name, e);
    if (t instanceof NotFoundException nf) {
      return new IOException(nf.getMessage() + " (deleted while being read)", nf);
    }
    return GcsErrors.asIoException(t);
  }
}
