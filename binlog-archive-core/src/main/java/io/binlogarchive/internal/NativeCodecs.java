package io.binlogarchive.internal;

/** Probes optional native codecs once and explains what to add when one is missing. */
public final class NativeCodecs {
  private static final String ZSTD_NATIVE_PATH = "ZstdNativePath";
  private static volatile Boolean zstdAvailable;

  private NativeCodecs() {}

  public static void requireZstd() {
    Boolean ok = zstdAvailable;
    if (ok == null) {
      ok = loadZstd();
      zstdAvailable = ok;
    }
    if (!ok) {
      throw new IllegalStateException(
          "zstd compression needs the native library of com.github.luben:zstd-jni for this platform;"
              + " add the dependency (or choose gzip)");
    }
  }

  /**
   * zstd-jni's library. zstd-jni loads the file named by its {@code ZstdNativePath} system property
   * instead of copying the one in its jar to a temporary file (the command-line launcher keeps such
   * a copy); if that file cannot be loaded, the jar's own library is loaded as usual.
   */
  private static boolean loadZstd() {
    try {
      com.github.luben.zstd.util.Native.load();
      return true;
    } catch (LinkageError | RuntimeException e) {
      if (System.getProperty(ZSTD_NATIVE_PATH) == null) {
        return false;
      }
    }
    System.clearProperty(ZSTD_NATIVE_PATH);
    try {
      com.github.luben.zstd.util.Native.load();
      return true;
    } catch (LinkageError | RuntimeException e) {
      return false;
    }
  }
}
