package io.binlogarchive.gcs;

import com.google.cloud.WriteChannel;
import com.google.cloud.storage.Blob;
import io.binlogarchive.ArchiveException;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.ObjectExistsException;
import io.binlogarchive.store.SinkWriter;
import io.binlogarchive.StoreException;
import io.binlogarchive.store.StoredObject;
import io.binlogarchive.gcs.GcsErrors.Op;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * One object being uploaded through a resumable session. The client buffers up to one chunk and
 * sends each full chunk as a non-final request; only {@link #commit()} closes the channel, which
 * sends the final request that creates the object. {@link #abort()} drops the channel without
 * closing it: the session is never finalised and no object appears.
 *
 * <p>When GCS refuses the session because the object exists (412, its {@code ifGenerationMatch=0}
 * failed), the writer takes and drops every byte and its commit fails with {@link
 * ObjectExistsException}, as a commit to an existing key does on every sink: the caller then reads
 * the existing object (the archiver adopts an artifact left without its sidecar).
 */
final class GcsSinkWriter extends SinkWriter {
  private enum State {
    OPEN,
    /** GCS refused the session: the object exists; writes are dropped, the commit fails. */
    EXISTS,
    COMMITTED,
    ABORTED,
    FAILED
  }

  private final GcsSink sink;
  private final String key;
  private final String name;
  private final CRC32C crc32c = new CRC32C();
  private final MessageDigest md5;
  private volatile WriteChannel channel;
  private volatile State state = State.OPEN;
  private volatile ObjectExistsException exists;
  private long size;

  GcsSinkWriter(GcsSink sink, String key, String name, WriteChannel channel) {
    this.sink = sink;
    this.key = key;
    this.name = name;
    this.channel = channel;
    try {
      this.md5 = MessageDigest.getInstance("MD5");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks MD5", e);
    }
  }

  /** @return a writer for an object that GCS says exists: it drops writes, its commit throws {@code exists} */
  static GcsSinkWriter existing(GcsSink sink, String key, String name, ObjectExistsException exists) {
    GcsSinkWriter w = new GcsSinkWriter(sink, key, name, null);
    w.exists = exists;
    w.state = State.EXISTS;
    return w;
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    if (state == State.EXISTS) {
      size += len; // nothing can be published under this name: the bytes go nowhere
      return;
    }
    WriteChannel ch = openChannel();
    crc32c.update(b, off, len);
    md5.update(b, off, len);
    size += len;
    ByteBuffer buf = ByteBuffer.wrap(b, off, len);
    try {
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
    } catch (IOException | RuntimeException e) {
      ArchiveException t = GcsErrors.translate(Op.WRITE, sink.bucket(), name, e);
      if (t instanceof ObjectExistsException oe) {
        // a client that creates the session with the first chunk: 412 means the object exists
        exists = oe;
        state = State.EXISTS;
        channel = null;
        return;
      }
      fail();
      if (t instanceof IntegrityException) {
        throw t;
      }
      throw GcsErrors.asIoException(t);
    }
  }

  /** Does nothing: GCS accepts only whole chunks before the final request. */
  @Override
  public void flush() {}

  @Override
  public StoredObject commit() throws IOException {
    if (state == State.EXISTS) {
      fail();
      throw exists;
    }
    WriteChannel ch = openChannel();
    channel = null;
    ArchiveException failure = null;
    try {
      ch.close(); // sends the final request: the object now exists (or the call failed)
    } catch (IOException | RuntimeException e) {
      failure = GcsErrors.translate(Op.COMMIT, sink.bucket(), name, e);
      if (failure instanceof ObjectExistsException || failure instanceof IntegrityException) {
        fail();
        throw failure;
      }
    }
    String crcHex = String.format("%08x", crc32c.getValue());
    String md5Hex = HexFormat.of().formatHex(md5.digest());
    Blob blob;
    try {
      blob = sink.getBlob(name);
    } catch (IOException | RuntimeException e) {
      fail();
      if (failure != null) {
        failure.addSuppressed(e);
        throw failure;
      }
      throw e;
    }
    boolean matches = blob != null && matches(blob, crcHex, md5Hex);
    if (failure != null) {
      // the outcome of the final request is unknown; the object tells whether it landed
      fail();
      if (blob == null) {
        throw failure;
      }
      if (!matches) {
        ObjectExistsException exists =
            new ObjectExistsException(key, "cannot create gs://" + sink.bucket() + "/" + name
                + ": an object with other content exists under that name");
        exists.addSuppressed(failure);
        throw exists;
      }
      // our bytes are there (a finalise whose answer was lost)
    } else if (blob == null) {
      fail();
      throw new StoreException("finalised gs://" + sink.bucket() + "/" + name
          + " but it was not found right after (deleted concurrently?)", false, null);
    } else if (!matches) {
      fail();
      IntegrityException ie =
          new IntegrityException("gs://" + sink.bucket() + "/" + name + " does not hold what was written: wrote "
              + size + " bytes crc32c=" + crcHex + " md5=" + md5Hex + ", store reports " + blob.getSize()
              + " bytes crc32c=" + blob.getCrc32cToHexString() + " md5=" + blob.getMd5ToHexString()
              + "; that generation was deleted");
      try {
        sink.deleteGeneration(name, blob.getGeneration());
      } catch (IOException | RuntimeException e) {
        ie.addSuppressed(e);
      }
      throw ie;
    }
    state = State.COMMITTED;
    return sink.toStoredObject(blob);
  }

  private boolean matches(Blob blob, String crcHex, String md5Hex) {
    return blob.getSize() != null
        && blob.getSize() == size
        && blob.getCrc32c() != null
        && crcHex.equals(blob.getCrc32cToHexString())
        && (blob.getMd5() == null || md5Hex.equals(blob.getMd5ToHexString()));
  }

  /**
   * Forgets the session without closing its channel: closing would finalise it and publish what was
   * written so far. The unfinished session holds no object and GCS discards it after a week.
   */
  @Override
  public void abort() {
    if (state == State.OPEN || state == State.EXISTS) {
      state = State.ABORTED;
    }
    channel = null;
  }

  @Override
  protected boolean isCommitted() {
    return state == State.COMMITTED;
  }

  private void fail() {
    state = State.FAILED;
    channel = null;
  }

  private WriteChannel openChannel() throws IOException {
    WriteChannel ch = channel;
    if (state != State.OPEN || ch == null) {
      throw new IOException("cannot write to gs://" + sink.bucket() + "/" + name + ": the upload was "
          + state.name().toLowerCase(java.util.Locale.ROOT));
    }
    return ch;
  }
}
