package io.binlogarchive.gcs;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.gcs.GcsErrors.Op;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/** Reads an object, turning the client's unchecked errors into {@link IOException}s. */
final class GcsInputStream extends FilterInputStream {
  private final String bucket;
  private final String name;

  GcsInputStream(InputStream in, String bucket, String name) {
    super(in);
    this.bucket = bucket;
    this.name = name;
  }

  @Override
  public int read() throws IOException {
    try {
      return super.read();
    } catch (IOException | RuntimeException e) {
      throw translate(e);
    }
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    try {
      return super.read(b, off, len);
    } catch (IOException | RuntimeException e) {
      throw translate(e);
    }
  }

  @Override
  public long skip(long n) throws IOException {
    try {
      return super.skip(n);
    } catch (IOException | RuntimeException e) {
      throw translate(e);
    }
  }

  private IOException translate(Exception e) {
    ArchiveException t = GcsErrors.translate(Op.READ, bucket, name, e);
    if (t instanceof NotFoundException nf) {
      return new IOException(nf.getMessage() + " (deleted while being read)", nf);
    }
    return GcsErrors.asIoException(t);
  }
}
