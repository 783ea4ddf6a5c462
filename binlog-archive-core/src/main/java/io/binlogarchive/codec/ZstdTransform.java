package io.binlogarchive.codec;

import io.binlogarchive.internal.NativeCodecs;
import io.binlogarchive.internal.NativeZstdFrames;
import com.github.luben.zstd.RecyclingBufferPool;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;
import com.github.luben.zstd.ZstdOutputStreamNoFinalizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.Map;

/** Zstandard through zstd-jni; frames carry a content checksum so {@code zstd -t} can check them. */
final class ZstdTransform implements Transform, NativeZstdFrames {
  private final int level;
  private final int workers;

  ZstdTransform(int level, int workers) {
    if (level < 1 || level > 22) {
      throw new IllegalArgumentException("zstd level must be 1..22, got " + level);
    }
    if (workers < 0 || workers > 64) {
      throw new IllegalArgumentException("zstd workers must be 0..64, got " + workers);
    }
    this.level = level;
    this.workers = workers;
    NativeCodecs.requireZstd();
  }

  @Override
  public String id() {
    return "zstd";
  }

  @Override
  public String extension() {
    return ".zst";
  }

  @Override
  public Map<String, Object> describe() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("level", level);
    return d;
  }

  @Override
  public OutputStream wrap(OutputStream out) throws IOException {
    ZstdOutputStreamNoFinalizer z = new ZstdOutputStreamNoFinalizer(out, RecyclingBufferPool.INSTANCE);
    try {
      z.setLevel(level);
      z.setChecksum(true);
      if (workers > 0) {
        z.setWorkers(workers);
      }
    } catch (IOException | RuntimeException e) {
      z.close();
      throw e;
    }
    return z;
  }

  @Override
  public InputStream unwrap(InputStream in) throws IOException {
    return new ZstdInputStreamNoFinalizer(in, RecyclingBufferPool.INSTANCE);
  }

  @Override
  public String toString() {
    return "zstd(level=" + level + (workers > 0 ? ", workers=" + workers : "") + ")";
  }
}
