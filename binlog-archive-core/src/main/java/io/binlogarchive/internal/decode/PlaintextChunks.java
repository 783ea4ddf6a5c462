package io.binlogarchive.internal.decode;

import io.binlogarchive.codec.Transform;
import io.binlogarchive.internal.NativeCodecs;
import io.binlogarchive.internal.NativeZstdFrames;
import com.github.luben.zstd.ZstdDecompressCtx;
import com.github.luben.zstd.ZstdException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * The decoded plaintext of one artifact, delivered into direct buffers. A zstd artifact is
 * decompressed straight into the caller's direct buffer, which a {@code FileChannel} then writes
 * without the JDK first copying it out of the heap: on a 100 MB binlog that saves a copy of
 * every plaintext byte on the thread that decompresses. The stored bytes are downloaded and
 * decrypted ahead on another thread ({@link ReadAhead}). Other codecs go through their {@link
 * InputStream} and one copy.
 */
public abstract class PlaintextChunks implements Closeable {
  private static final ByteBuffer EMPTY = ByteBuffer.allocateDirect(0);

  /**
   * Fills {@code dst} from its position to its limit, or less at the end of the plaintext.
   *
   * @return the number of bytes added, or -1 if the plaintext has ended and none were added
   * @throws IOException if the artifact does not decode (a corrupt or truncated stream)
   */
  public abstract int fill(ByteBuffer dst) throws IOException;

  /**
   * @param compressed the stored bytes, already decrypted
   * @param codec the codec that wrote them: the built-in zstd ({@link NativeZstdFrames}) takes the
   *     direct path, any other goes through its {@link Transform#unwrap(InputStream)}
   */
  public static PlaintextChunks of(InputStream compressed, Transform codec, int bufferSize, String name)
      throws IOException {
    if (codec instanceof NativeZstdFrames) {
      NativeCodecs.requireZstd();
      return new Zstd(compressed, bufferSize, name);
    }
    return new Stream(codec.unwrap(compressed), bufferSize);
  }

  /** zstd frames (one or more, as {@code zstd -d} accepts them) into direct buffers. */
  private static final class Zstd extends PlaintextChunks {
    private final ReadAhead in;
    private final ZstdDecompressCtx ctx = new ZstdDecompressCtx();
    private ByteBuffer src;
    private boolean eof;
    /** Whether the last call ended a frame with nothing left buffered; true before any input too. */
    private boolean atFrameEnd = true;
    private boolean sawInput;

    Zstd(InputStream in, int bufferSize, String name) {
      this.in = new ReadAhead(in, 3, Math.max(1 << 16, bufferSize / 4), name);
    }

    @Override
    public int fill(ByteBuffer dst) throws IOException {
      int start = dst.position();
      while (dst.hasRemaining()) {
        if ((src == null || !src.hasRemaining()) && !eof) {
          if (src != null) {
            in.recycle(src);
          }
          src = in.next();
          if (src == null) {
            eof = true;
            src = EMPTY;
          } else {
            sawInput = true;
          }
        }
        if (eof && !src.hasRemaining() && atFrameEnd) {
          break;
        }
        int dstBefore = dst.position();
        int srcBefore = src.position();
        try {
          atFrameEnd = ctx.decompressDirectByteBufferStream(dst, src);
        } catch (ZstdException e) {
          throw new IOException("zstd: " + e.getMessage(), e);
        }
        if (eof && !src.hasRemaining() && dst.position() == dstBefore && src.position() == srcBefore) {
          if (!atFrameEnd) {
            throw new IOException("zstd: the stream is truncated (it ends inside a frame)");
          }
          break;
        }
      }
      if (eof && !sawInput) {
        throw new IOException("zstd: the stream is empty (not even a frame header)");
      }
      int n = dst.position() - start;
      return n == 0 && eof && !src.hasRemaining() ? -1 : n;
    }

    @Override
    public void close() throws IOException {
      try {
        in.close();
      } finally {
        ctx.close();
      }
    }
  }

  /** Any codec's decoding stream, copied into the buffers. */
  private static final class Stream extends PlaintextChunks {
    private final InputStream in;
    private final byte[] staging;

    Stream(InputStream in, int bufferSize) {
      this.in = in;
      this.staging = new byte[Math.max(1 << 16, bufferSize / 4)];
    }

    @Override
    public int fill(ByteBuffer dst) throws IOException {
      int start = dst.position();
      while (dst.hasRemaining()) {
        int n = in.read(staging, 0, Math.min(staging.length, dst.remaining()));
        if (n < 0) {
          break;
        }
        dst.put(staging, 0, n);
      }
      int n = dst.position() - start;
      return n == 0 ? -1 : n;
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
