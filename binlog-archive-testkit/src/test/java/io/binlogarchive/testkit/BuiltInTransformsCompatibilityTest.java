package io.binlogarchive.testkit;

import io.binlogarchive.codec.Transform;
import io.binlogarchive.crypto.StaticKeyProvider;
import io.binlogarchive.testing.XzTransform;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;

/** The transform kit against every transform the library ships, and the custom xz codec of core's tests. */
class BuiltInTransformsCompatibilityTest {

  static StaticKeyProvider keys() {
    byte[] k = new byte[32];
    new Random(5).nextBytes(k);
    return StaticKeyProvider.builder().key("kit-key", k).build();
  }

  @Nested
  @DisplayName("zstd")
  class Zstd extends TransformCompatibilityKit {
    @Override
    protected Transform newTransform() {
      return Transform.zstd(3);
    }
  }

  @Nested
  @DisplayName("zstd with workers")
  class ZstdWorkers extends TransformCompatibilityKit {
    @Override
    protected Transform newTransform() {
      return Transform.zstd(3, 2);
    }
  }

  @Nested
  @DisplayName("gzip")
  class Gzip extends TransformCompatibilityKit {
    @Override
    protected Transform newTransform() {
      return Transform.gzip(6);
    }
  }

  @Nested
  @DisplayName("none")
  class None extends TransformCompatibilityKit {
    @Override
    protected Transform newTransform() {
      return Transform.none();
    }

    @Override
    protected boolean detectsTruncation() {
      return false; // bytes as they are: no framing to miss
    }
  }

  @Nested
  @DisplayName("AES-256-GCM")
  class AesGcm extends TransformCompatibilityKit {
    @Override
    protected Transform newTransform() {
      return Transform.aesGcm(keys()).innerCodec("zstd");
    }
  }

  @Nested
  @DisplayName("AES-256-GCM with small segments")
  class AesGcmSmallSegments extends TransformCompatibilityKit {
    @Override
    protected Transform newTransform() {
      return Transform.aesGcm(keys()).segmentSize(4096);
    }
  }

  @Nested
  @DisplayName("xz, a codec from outside the library")
  class Xz extends TransformCompatibilityKit {
    @Override
    protected Transform newTransform() {
      return new XzTransform();
    }
  }
}
