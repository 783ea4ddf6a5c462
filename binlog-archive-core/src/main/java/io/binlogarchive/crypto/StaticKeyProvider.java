package io.binlogarchive.crypto;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.IntegrityException;
import io.binlogarchive.NotFoundException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link KeyProvider} holding 32-byte AES-256 master keys given directly, read from key files or
 * from environment variables, each under a key id.
 *
 * <p>A key file holds either the 32 raw key bytes or their base64 text (standard alphabet,
 * surrounding whitespace ignored); an environment variable holds base64 text. Several keys can be
 * loaded at once so that keys can rotate: new artifacts use the {@linkplain Builder#primary
 * primary} key, older artifacts still decrypt under the key id recorded in their header.
 *
 * <p>Wrapping a data key is AES-256-GCM under the master key with a random 12-byte nonce and the
 * key id (UTF-8) as associated data; the wrapped form is {@code nonce || ciphertext || tag}, 60
 * bytes. Instances are immutable and thread-safe.
 *
 * <pre>{@code
 * KeyProvider keys = StaticKeyProvider.builder()
 *     .keyFile("2026-11", Path.of("/etc/binlog-archive/2026-11.key"))
 *     .keyFromEnv("2025-01", "BINLOG_ARCHIVE_KEY_2025_01")
 *     .primary("2026-11")
 *     .build();
 * }</pre>
 */
public final class StaticKeyProvider implements KeyProvider {
  private static final Logger LOG = LoggerFactory.getLogger(StaticKeyProvider.class);
  private static final int NONCE_LENGTH = 12;
  private static final int TAG_LENGTH = 16;
  private static final int WRAPPED_LENGTH = NONCE_LENGTH + DataKey.LENGTH + TAG_LENGTH;
  private static final int MAX_KEY_ID_BYTES = 255;

  private final Map<String, SecretKeySpec> keys;
  private final String primary;
  private final SecureRandom random;

  private StaticKeyProvider(Map<String, SecretKeySpec> keys, String primary, SecureRandom random) {
    this.keys = keys;
    this.primary = primary;
    this.random = random;
  }

  /** @return a builder with no keys */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public String primaryKeyId() {
    return primary;
  }

  /** @return the ids of every key this provider can unwrap with, in the order they were added */
  public Set<String> keyIds() {
    return keys.keySet();
  }

  @Override
  public DataKey newDataKey() {
    return KeyProvider.freshDataKey(this, random);
  }

  @Override
  public DataKey wrap(byte[] plaintextKey) {
    DataKey.requireLength(plaintextKey);
    byte[] out = new byte[WRAPPED_LENGTH];
    byte[] nonce = new byte[NONCE_LENGTH];
    random.nextBytes(nonce);
    System.arraycopy(nonce, 0, out, 0, NONCE_LENGTH);
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, keys.get(primary), new GCMParameterSpec(TAG_LENGTH * 8, nonce));
      c.updateAAD(primary.getBytes(StandardCharsets.UTF_8));
      c.doFinal(plaintextKey, 0, plaintextKey.length, out, NONCE_LENGTH);
    } catch (GeneralSecurityException e) {
      throw new ArchiveException(
          "cannot wrap a data key under key id '" + primary + "': " + e.getClass().getSimpleName(),
          e);
    }
    return DataKey.of(primary, plaintextKey, out);
  }

  @Override
  public DataKey unwrap(String keyId, byte[] wrappedKey) {
    Objects.requireNonNull(keyId, "keyId");
    Objects.requireNonNull(wrappedKey, "wrappedKey");
    SecretKeySpec master = keys.get(keyId);
    if (master == null) {
      throw new NotFoundException(
          "cannot unwrap data key: no key with id '" + keyId + "' in this StaticKeyProvider (it has "
              + keys.keySet() + ")");
    }
    if (wrappedKey.length != WRAPPED_LENGTH) {
      throw new IntegrityException(
          "cannot unwrap data key under key id '" + keyId + "': wrapped key is "
              + wrappedKey.length + " bytes, expected " + WRAPPED_LENGTH);
    }
    byte[] key = new byte[DataKey.LENGTH];
    try {
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(
          Cipher.DECRYPT_MODE,
          master,
          new GCMParameterSpec(TAG_LENGTH * 8, wrappedKey, 0, NONCE_LENGTH));
      c.updateAAD(keyId.getBytes(StandardCharsets.UTF_8));
      c.doFinal(wrappedKey, NONCE_LENGTH, wrappedKey.length - NONCE_LENGTH, key, 0);
      return DataKey.of(keyId, key, wrappedKey);
    } catch (AEADBadTagException e) {
      throw new IntegrityException(
          "cannot unwrap data key under key id '" + keyId + "': authentication failed; the key "
              + "loaded under that id is not the one the data key was wrapped with, or the wrapped "
              + "key is corrupt");
    } catch (GeneralSecurityException e) {
      throw new ArchiveException(
          "cannot unwrap data key under key id '" + keyId + "': " + e.getClass().getSimpleName(), e);
    } finally {
      Arrays.fill(key, (byte) 0);
    }
  }

  /** @return the key ids and the primary one, never key bytes */
  @Override
  public String toString() {
    return "StaticKeyProvider[primary=" + primary + ", keys=" + keys.keySet() + "]";
  }

  /**
   * Collects keys; {@link #build()} reads the files and variables and reports every problem at
   * once. A builder can build several times; each provider holds the same keys (files and
   * variables are read again). Not thread-safe.
   */
  public static final class Builder {
    private final List<Source> sources = new ArrayList<>();
    private String primary;
    private Function<String, String> environment = System::getenv;
    private SecureRandom random;

    private Builder() {}

    /**
     * Adds a key given as bytes (copied).
     *
     * @param keyId id recorded in artifacts; 1 to 255 UTF-8 bytes, no control characters
     * @param key 32 bytes
     * @return this builder
     */
    public Builder key(String keyId, byte[] key) {
      Objects.requireNonNull(key, "key");
      byte[] copy = key.clone();
      // build() zeroes what a loader returns: hand out a fresh copy each time, so that a builder
      // can build again (one configuration for the archiver and the reader)
      sources.add(new Source(checkId(keyId), "the key bytes given", copy::clone));
      return this;
    }

    /**
     * Adds a key read from a file holding the 32 raw bytes or their base64 text.
     *
     * @param keyId id recorded in artifacts; 1 to 255 UTF-8 bytes, no control characters
     * @param file the key file; read by {@link #build()}
     * @return this builder
     */
    public Builder keyFile(String keyId, Path file) {
      Objects.requireNonNull(file, "file");
      sources.add(new Source(checkId(keyId), "key file " + file, () -> readFile(keyId, file)));
      return this;
    }

    /**
     * Adds a key read from an environment variable holding the base64 text of the 32 bytes.
     *
     * @param keyId id recorded in artifacts; 1 to 255 UTF-8 bytes, no control characters
     * @param variable the variable's name; read by {@link #build()}
     * @return this builder
     */
    public Builder keyFromEnv(String keyId, String variable) {
      Objects.requireNonNull(variable, "variable");
      String what = "environment variable " + variable;
      sources.add(
          new Source(
              checkId(keyId),
              what,
              () -> {
                String value = environment.apply(variable);
                if (value == null) {
                  throw new IllegalArgumentException(what + " is not set");
                }
                return decodeBase64(what, value);
              }));
      return this;
    }

    /**
     * Chooses the key new data keys are wrapped under; by default the first key added.
     *
     * @param keyId one of the ids added
     * @return this builder
     */
    public Builder primary(String keyId) {
      this.primary = checkId(keyId);
      return this;
    }

    /** For tests: where {@link #keyFromEnv} looks variables up. */
    Builder environment(Function<String, String> environment) {
      this.environment = Objects.requireNonNull(environment);
      return this;
    }

    /** For tests: the source of data keys and wrapping nonces. */
    Builder random(SecureRandom random) {
      this.random = Objects.requireNonNull(random);
      return this;
    }

    /**
     * Loads every key.
     *
     * @return the provider
     * @throws IllegalArgumentException naming every key source that is missing, unreadable or of
     *     the wrong length, a key id given twice, or a primary id that was not added
     */
    public StaticKeyProvider build() {
      List<String> problems = new ArrayList<>();
      List<Throwable> causes = new ArrayList<>();
      Map<String, SecretKeySpec> loaded = new LinkedHashMap<>();
      for (Source s : sources) {
        if (loaded.containsKey(s.keyId)) {
          problems.add("key id '" + s.keyId + "' is given more than once");
          continue;
        }
        byte[] key = null;
        try {
          key = s.loader.load();
          if (key.length != DataKey.LENGTH) {
            problems.add(
                s.what + " for key id '" + s.keyId + "' must hold " + DataKey.LENGTH
                    + " bytes (raw or base64), but holds " + key.length);
            continue;
          }
          loaded.put(s.keyId, new SecretKeySpec(key, "AES"));
          LOG.info("loaded encryption key id '{}' from {}", s.keyId, s.what);
        } catch (IllegalArgumentException e) {
          problems.add(e.getMessage() + " (key id '" + s.keyId + "')");
        } catch (IOException e) {
          problems.add(
              "cannot read " + s.what + " for key id '" + s.keyId + "': "
                  + e.getClass().getSimpleName());
          causes.add(e);
        } finally {
          if (key != null) {
            Arrays.fill(key, (byte) 0);
          }
        }
      }
      if (sources.isEmpty()) {
        problems.add("no keys were added");
      }
      String chosen = primary;
      if (chosen == null && !sources.isEmpty()) {
        chosen = sources.get(0).keyId;
      }
      if (primary != null && sources.stream().noneMatch(s -> s.keyId.equals(primary))) {
        problems.add("primary key id '" + primary + "' is not among the keys added");
      }
      if (!problems.isEmpty()) {
        IllegalArgumentException e =
            new IllegalArgumentException(
                "cannot build StaticKeyProvider: " + String.join("; ", problems));
        causes.forEach(e::addSuppressed);
        throw e;
      }
      return new StaticKeyProvider(
          Collections.unmodifiableMap(loaded),
          chosen,
          random != null ? random : new SecureRandom());
    }

    private static String checkId(String keyId) {
      Objects.requireNonNull(keyId, "keyId");
      if (keyId.isBlank()) {
        throw new IllegalArgumentException("key id must not be blank");
      }
      if (keyId.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_ID_BYTES) {
        throw new IllegalArgumentException("key id must be at most " + MAX_KEY_ID_BYTES + " bytes");
      }
      if (keyId.chars().anyMatch(Character::isISOControl)) {
        throw new IllegalArgumentException("key id must not contain control characters");
      }
      return keyId;
    }

    private static byte[] readFile(String keyId, Path file) throws IOException {
      byte[] content = Files.readAllBytes(file);
      warnIfOpen(keyId, file);
      if (content.length == DataKey.LENGTH) {
        return content;
      }
      try {
        return decodeBase64("key file " + file, new String(content, StandardCharsets.US_ASCII));
      } finally {
        Arrays.fill(content, (byte) 0);
      }
    }

    /** Decodes base64 text; the message of a failure names the source, never the content. */
    private static byte[] decodeBase64(String what, String text) {
      try {
        return Base64.getDecoder().decode(text.strip());
      } catch (IllegalArgumentException e) {
        // The decoder's own message quotes an offending character: keep it out.
        throw new IllegalArgumentException(
            what + " must hold " + DataKey.LENGTH + " raw bytes or their base64 text, but holds "
                + text.length() + " characters that are not valid base64");
      }
    }

    private static void warnIfOpen(String keyId, Path file) {
      try {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        if (perms.contains(PosixFilePermission.GROUP_READ)
            || perms.contains(PosixFilePermission.OTHERS_READ)) {
          LOG.warn(
              "key file {} for key id '{}' can be read by group or others; restrict it to its owner"
                  + " (chmod 600)",
              file,
              keyId);
        }
      } catch (IOException | UnsupportedOperationException e) {
        // Not a POSIX file system: nothing to check.
      }
    }
  }

  private static final class Source {
    final String keyId;
    final String what;
    final Loader loader;

    Source(String keyId, String what, Loader loader) {
      this.keyId = keyId;
      this.what = what;
      this.loader = loader;
    }
  }

  @FunctionalInterface
  private interface Loader {
    byte[] load() throws IOException;
  }
}
