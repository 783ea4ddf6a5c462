package io.binlogarchive.restore;

import io.binlogarchive.Sidecar;
import io.binlogarchive.store.StoredObject;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a rewrap names its artifacts, and how its leftovers are recognised: the N-th rewrap of an
 * artifact is stored as {@code <file>.k<N><ext>} beside it (sinks never overwrite), so an
 * unreferenced artifact of the same file, extensions and directory but another generation is what
 * an interrupted rewrap left (see {@link ArchiveRewrap}). Both the rewrap and the survey use it.
 */
final class RewrapNames {
  /** {@code .k<N>} right after the file name: the artifact of the N-th rewrap. */
  private static final Pattern GENERATION = Pattern.compile("\\.k([1-9][0-9]{0,8})(\\..+)");

  private RewrapNames() {}

  /**
   * An artifact key split at the file name: {@code dir + file + [".k" + generation] + extension}.
   */
  record Name(String dir, String file, int generation, String extension) {
    String key() {
      return dir + file + (generation == 0 ? "" : ".k" + generation) + extension;
    }

    Name next() {
      return new Name(dir, file, generation + 1, extension);
    }

    boolean encrypted() {
      return extension.endsWith(".aes");
    }
  }

  /** @return the parts of {@code key}, an artifact of {@code file}, or null if it is not named so */
  static Name parse(String file, String key) {
    int slash = key.lastIndexOf('/');
    String dir = key.substring(0, slash + 1);
    String name = key.substring(slash + 1);
    if (!name.startsWith(file + ".")) {
      return null;
    }
    String rest = name.substring(file.length());
    Matcher m = GENERATION.matcher(rest);
    if (m.matches()) {
      return new Name(dir, file, Integer.parseInt(m.group(1)), m.group(2));
    }
    return new Name(dir, file, 0, rest);
  }

  /**
   * The part of an artifact's name before its rewrap generation and extensions: the binlog's name,
   * or for a segment ({@link Sidecar#segment()} set) the name and its 20-digit start offset.
   */
  static String base(Sidecar s) {
    return s.segment() == null ? s.file() : s.file() + "." + String.format(Locale.ROOT, "%020d",
        s.segment().start());
  }

  /**
   * Whether {@code other}, an artifact nobody references, is a leftover of an interrupted rewrap
   * of the file {@code sidecar} describes.
   *
   * @return the problem to report instead of an orphan, or null if it is not such a leftover
   */
  static ArchiveProblem leftover(Sidecar sidecar, StoredObject referenced, StoredObject other) {
    if (sidecar == null || referenced == null || sidecar.artifact().cipher() == null) {
      return null;
    }
    Name current = parse(base(sidecar), sidecar.artifact().key());
    Name extra = parse(base(sidecar), other.key());
    if (current == null || extra == null || !current.dir().equals(extra.dir()) || !current.encrypted()
        || !current.extension().equals(extra.extension()) || current.generation() == extra.generation()) {
      return null;
    }
    String timeline = sidecar.timeline();
    String message = extra.generation() < current.generation()
        ? "artifact " + other.key() + " is what " + sidecar.file() + " was stored as before a key rotation"
            + " (rewrap) moved it to " + current.key() + ", which its sidecar names; the rewrap stopped before"
            + " deleting it. Restores are unaffected; running the rewrap again deletes it"
        : "artifact " + other.key() + " was written by a key rotation (rewrap) that stopped before switching the"
            + " sidecar of " + sidecar.file() + " to it; the sidecar still names " + current.key() + ", which"
            + " restores use. Running the rewrap to the same key again finishes the move";
    return new ArchiveProblem(ArchiveProblem.Kind.REWRAP_LEFTOVER, timeline, sidecar.file(), other.key(), message);
  }
}
