package io.binlogarchive.codec;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.function.Supplier;

/**
 * The codecs a reader can decode, found by the id each artifact's sidecar records ({@link
 * Transform#id()}). The built-in codecs ({@code zstd}, {@code gzip}, {@code none}) are always
 * registered; an embedder adds its own:
 *
 * <pre>{@code
 * ArchiveReader reader = ArchiveReader.builder()
 *     .sink(sink).serverId("db1")
 *     .codec(new XzTransform())          // the same transform the archiver compressed with
 *     .build();
 * }</pre>
 *
 * <p>Discovery through {@link ServiceLoader} is an explicit opt-in: {@code
 * CodecRegistry.builtIns().withServiceLoader()} adds every {@code Transform} named in a {@code META-INF/services/io.binlogarchive.codec.Transform}
 * file on the class path (each needs a public no-argument constructor). Nothing is discovered
 * otherwise, so a jar on the class path never changes how an archive is read unless asked.
 *
 * <p>Ids are unique: a codec cannot replace a built-in one or another codec of the same id, and
 * {@code aes-256-gcm} is reserved for the built-in encryption (a reader gets it from its key
 * provider). Instances are immutable and thread-safe; {@link #with(Transform)} returns a copy.
 */
public final class CodecRegistry {
  /** The ids of the built-in transforms, which no added codec may take. */
  private static final Set<String> RESERVED = Set.of("zstd", "gzip", "none", "aes-256-gcm");

  private static final CodecRegistry BUILT_INS = new CodecRegistry(builtInCodecs(), Map.of());

  /** The built-in codecs, created when first asked for (zstd needs its native library only then). */
  private final Map<String, Supplier<Transform>> builtIn;
  /** Added codecs by id, in the order they were added. */
  private final Map<String, Transform> added;

  private CodecRegistry(Map<String, Supplier<Transform>> builtIn, Map<String, Transform> added) {
    this.builtIn = builtIn;
    this.added = added;
  }

  private static Map<String, Supplier<Transform>> builtInCodecs() {
    Map<String, Supplier<Transform>> m = new LinkedHashMap<>();
    m.put("zstd", () -> Transform.zstd(3)); // decoding does not depend on the level
    m.put("gzip", () -> Transform.gzip(6));
    m.put("none", Transform::none);
    return Collections.unmodifiableMap(m);
  }

  /** @return a registry holding only the built-in codecs ({@code zstd}, {@code gzip}, {@code none}) */
  public static CodecRegistry builtIns() {
    return BUILT_INS;
  }

  /**
   * @param codec a codec whose {@link Transform#id()} this registry does not hold yet
   * @return a copy of this registry that also decodes artifacts whose sidecar records that id
   * @throws IllegalArgumentException if the id is a built-in one or already registered
   */
  public CodecRegistry with(Transform codec) {
    Objects.requireNonNull(codec, "codec");
    String id = Objects.requireNonNull(codec.id(), "codec.id()");
    if (id.isEmpty()) {
      throw new IllegalArgumentException("codec " + codec + " has an empty id");
    }
    if (RESERVED.contains(id)) {
      throw new IllegalArgumentException("codec " + codec + " has the id '" + id + "' of a built-in transform;"
          + " give it an id of its own (the id is what sidecars record and readers look up)");
    }
    Transform other = added.get(id);
    if (other != null) {
      throw new IllegalArgumentException("codec " + codec + " has the id '" + id + "', which " + other
          + " already has in this registry; ids must be unique");
    }
    Map<String, Transform> m = new LinkedHashMap<>(added);
    m.put(id, codec);
    return new CodecRegistry(builtIn, Collections.unmodifiableMap(m));
  }

  /**
   * Adds every {@link Transform} that {@link ServiceLoader} finds through the thread's context class
   * loader. A codec of a class already registered under its id is skipped, so calling this twice is
   * harmless.
   *
   * @return a copy of this registry with the discovered codecs
   * @throws IllegalStateException if a provider cannot be loaded or instantiated, naming it
   * @throws IllegalArgumentException if a discovered codec's id is a built-in one or taken
   */
  public CodecRegistry withServiceLoader() {
    return withServiceLoader(Thread.currentThread().getContextClassLoader());
  }

  /**
   * {@link #withServiceLoader()} through the given class loader.
   *
   * @param loader where to look for {@code META-INF/services/io.binlogarchive.codec.Transform}
   * @return a copy of this registry with the discovered codecs
   */
  public CodecRegistry withServiceLoader(ClassLoader loader) {
    CodecRegistry r = this;
    try {
      for (Transform t : ServiceLoader.load(Transform.class, loader)) {
        Transform known = r.added.get(t.id());
        if (known != null && known.getClass() == t.getClass()) {
          continue;
        }
        r = r.with(t);
      }
    } catch (ServiceConfigurationError e) {
      throw new IllegalStateException("a codec listed in META-INF/services/" + Transform.class.getName()
          + " cannot be loaded: " + e.getMessage(), e);
    }
    return r;
  }

  /**
   * @param id a codec id as a sidecar records it
   * @return the codec that decodes it, or empty if this registry has none
   */
  public Optional<Transform> find(String id) {
    Supplier<Transform> b = builtIn.get(id);
    if (b != null) {
      return Optional.of(b.get());
    }
    return Optional.ofNullable(added.get(id));
  }

  /** @return every id this registry decodes: the built-in ones first, then the added ones in order */
  public Set<String> ids() {
    Set<String> ids = new LinkedHashSet<>(builtIn.keySet());
    ids.addAll(added.keySet());
    return Collections.unmodifiableSet(ids);
  }

  @Override
  public String toString() {
    return "CodecRegistry" + ids();
  }
}
