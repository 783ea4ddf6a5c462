package io.binlogarchive.internal;

/** Probes optional native codecs once and explains what to add when one is missing. */
public final class NativeCodecs {
  private static volatile Boolean zstdAvailable;

  private NativeCodecs() {}

  public static void requireZstd() {
    Boolean ok = zstdAvailable;
    if (ok == null) {
      try {
        com.github.luben.zstd.util.Native.load();
        ok = Boolean.TRUE;
      } catch (LinkageError | RuntimeException e) {
        ok = Boolean.FALSE;
      }
      zstdAvailable = ok;
    }
    if (!ok) {
      throw new IllegalStateException(
          "zstd compression needs the native library of com.github.luben:zstd-jni for this platform;"
              + " add the dependency (or choose gzip)");
    }
  }
}
