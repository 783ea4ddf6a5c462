package io.binlogarchive.examples;

import io.binlogarchive.KeyProvider;
import io.binlogarchive.StaticKeyProvider;
import java.nio.file.Path;

/** Key providers from command-line settings. */
final class Keys {
  private Keys() {}

  /**
   * A static key from a file (32 raw bytes or their base64 text). The key id defaults to the file
   * name without its extension, so rotating to a new file gives a new id.
   */
  static KeyProvider fromFile(String file, String keyId) {
    Path p = Path.of(file);
    String id = keyId;
    if (id == null) {
      String name = p.getFileName().toString();
      int dot = name.lastIndexOf('.');
      id = dot > 0 ? name.substring(0, dot) : name;
    }
    return StaticKeyProvider.builder().keyFile(id, p).primary(id).build();
  }
}
