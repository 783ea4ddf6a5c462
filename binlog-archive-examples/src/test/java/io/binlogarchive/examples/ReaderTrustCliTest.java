package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.binlogarchive.Sidecar;
import io.binlogarchive.codec.Transform;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The runner's read side, attacked by someone who can write to the store. */
@DisplayName("The runner's restore and verify refuse planted objects")
class ReaderTrustCliTest {
  @TempDir Path tmp;

  static MainTest.Result run(String... args) {
    return MainTest.run(args);
  }

  static String sha256(byte[] b) throws NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
  }

  static byte[] zstd(byte[] plain) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream z = Transform.zstd(3).wrap(out)) {
      z.write(plain);
    }
    return out.toByteArray();
  }

  /** The archived object of this name (e.g. {@code mysql-bin.000002.json}) below {@code root}. */
  static Path object(Path root, String name) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.filter(p -> p.getFileName().toString().equals(name)).findFirst().orElseThrow();
    }
  }

  /** The largest regular file below {@code dir} (hidden and temporary ones included) whose name contains {@code part}. */
  static long largestFile(Path dir, String part) throws IOException {
    if (!Files.exists(dir)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().contains(part))
          .mapToLong(p -> p.toFile().length()).max().orElse(0);
    }
  }

  /** Writes the sidecar back with another artifact record and binlog size and SHA-256. */
  static void forge(Path sidecarFile, Sidecar.Artifact a, long size, String sha256) throws IOException {
    Sidecar s = Sidecar.parse(Files.readAllBytes(sidecarFile), sidecarFile.toString());
    Files.write(sidecarFile, new Sidecar(s.formatVersion(), s.file(), s.sequence(), s.serverId(), s.timeline(), size,
        sha256, a, s.binlog(), s.archivedAt(), s.archiver()).toJson());
  }

  static String keyOf(Path archive, Path object) {
    return archive.relativize(object).toString();
  }

  Path encryptedArchive(Path key) throws IOException {
    byte[] k = new byte[32];
    new Random(11).nextBytes(k);
    Files.write(key, k);
    Path archive = tmp.resolve("archive");
    MainTest.Result a = run("archive", "--binlog-dir", MainTest.SAMPLE.toString(), "--to", "file://" + archive,
        "--encrypt-key-file", key.toString());
    assertThat(a.code()).as(a.err()).isZero();
    return archive;
  }

  @Test
  @DisplayName("an encrypted pair swapped for an unencrypted one of a modified binlog: fetch and verify with --key-file refuse it; --allow-unencrypted accepts it")
  void downgrade() throws Exception {
    Path key = tmp.resolve("k1.key");
    Path archive = encryptedArchive(key);
    String uri = "file://" + archive;
    byte[] modified = Files.readAllBytes(MainTest.SAMPLE.resolve("mysql-bin.000002"));
    modified[modified.length / 2] ^= 0x01;
    Path sidecar = object(archive, "mysql-bin.000002.json");
    Path encrypted = object(archive, "mysql-bin.000002.zst.aes");
    Path plain = encrypted.resolveSibling("mysql-bin.000002.zst");
    byte[] artifact = zstd(modified);
    Files.write(plain, artifact);
    Files.delete(encrypted);
    String plainKey = keyOf(archive, plain);
    forge(sidecar, new Sidecar.Artifact(plainKey, artifact.length, sha256(artifact), "zstd", 3, null, null, null, null),
        modified.length, sha256(modified));
    // an earlier verify without the key recorded the swapped file as fine in its state file
    assertThat(run("verify", "--from", uri).code()).isZero();

    Path dir = tmp.resolve("restore");
    MainTest.Result fetch = run("restore", "fetch", "--from", uri, "--start", "mysql-bin.000001:4", "--to-dir",
        dir.toString(), "--key-file", key.toString());
    assertThat(fetch.code()).as(fetch.err()).isEqualTo(1);
    assertThat(fetch.err()).contains(plainKey, "mysql-bin.000002", "not encrypted", "--allow-unencrypted");
    assertThat(largestFile(dir, "")).isZero();
    MainTest.Result verify = run("verify", "--from", uri, "--key-file", key.toString());
    assertThat(verify.code()).as(verify.out() + verify.err()).isEqualTo(1);
    assertThat(verify.out()).contains("PROBLEM CORRUPT_ARTIFACT " + plainKey, "not encrypted");
    MainTest.Result full = run("verify", "--from", uri, "--full", "--key-file", key.toString());
    assertThat(full.code()).isEqualTo(1);
    assertThat(full.out()).contains("PROBLEM CORRUPT_ARTIFACT " + plainKey);

    MainTest.Result allowed = run("restore", "fetch", "--from", uri, "--start", "mysql-bin.000001:4", "--to-dir",
        dir.toString(), "--key-file", key.toString(), "--allow-unencrypted");
    assertThat(allowed.code()).as(allowed.err()).isZero();
    assertThat(Files.readAllBytes(dir.resolve("mysql-bin.000002"))).isEqualTo(modified);
    assertThat(run("verify", "--from", uri, "--full", "--key-file", key.toString(), "--allow-unencrypted").code())
        .isZero();
    assertThat(run("restore", "plan", "--from", uri, "--start", "mysql-bin.000001:4", "--key-file", key.toString(),
        "--allow-unencrypted").code()).isZero();
  }

  @Test
  @DisplayName("a sidecar whose key id disagrees with the artifact's header is refused, naming the object")
  void foreignKeyId() throws Exception {
    Path key = tmp.resolve("k1.key");
    Path archive = encryptedArchive(key);
    Path sidecar = object(archive, "mysql-bin.000003.json");
    Sidecar s = Sidecar.parse(Files.readAllBytes(sidecar), sidecar.toString());
    Sidecar.Artifact a = s.artifact();
    assertThat(a.keyId()).isEqualTo("k1");
    forge(sidecar, new Sidecar.Artifact(a.key(), a.size(), a.sha256(), a.codec(), a.codecLevel(), a.cipher(), "k2",
        a.transforms(), a.storeChecksums()), s.size(), s.sha256());
    Path dir = tmp.resolve("restore");
    MainTest.Result fetch = run("restore", "fetch", "--from", "file://" + archive, "--start", "mysql-bin.000003:4",
        "--to-dir", dir.toString(), "--key-file", key.toString());
    assertThat(fetch.code()).as(fetch.err()).isEqualTo(1);
    assertThat(fetch.err()).contains(a.key(), "key id 'k2'", "'k1'");
    assertThat(largestFile(dir, "")).isZero();
  }

  @Test
  @DisplayName("a zstd bomb declared as 1 MiB that inflates to 400 MB: fetch and verify --full fail naming it; nothing over 1 MiB reaches the disk")
  void bomb() throws Exception {
    Path archive = tmp.resolve("archive");
    String uri = "file://" + archive;
    assertThat(run("archive", "--binlog-dir", MainTest.SAMPLE.toString(), "--to", uri).code()).isZero();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (OutputStream z = Transform.zstd(3).wrap(out)) {
      byte[] zeros = new byte[1 << 20];
      for (int i = 0; i < 400; i++) {
        z.write(zeros);
      }
    }
    byte[] artifact = out.toByteArray();
    long declared = 1 << 20;
    Path sidecar = object(archive, "mysql-bin.000002.json");
    Path target = object(archive, "mysql-bin.000002.zst");
    Files.write(target, artifact);
    Sidecar s = Sidecar.parse(Files.readAllBytes(sidecar), sidecar.toString());
    forge(sidecar, new Sidecar.Artifact(s.artifact().key(), artifact.length, sha256(artifact), "zstd", 3, null, null,
        null, null), declared, s.sha256());
    Path dir = tmp.resolve("restore");
    MainTest.Result fetch = run("restore", "fetch", "--from", uri, "--start", "mysql-bin.000002:4", "--to-dir",
        dir.toString());
    assertThat(fetch.code()).as(fetch.err()).isEqualTo(1);
    assertThat(fetch.err()).contains(s.artifact().key(), "mysql-bin.000002", "decodes to more than the " + declared);
    // the plan's other files are genuine and may be fetched in parallel; the bomb's name never grows past its size
    assertThat(largestFile(dir, "mysql-bin.000002")).isLessThanOrEqualTo(declared);
    assertThat(dir.resolve("mysql-bin.000002")).doesNotExist();
    MainTest.Result verify = run("verify", "--from", uri, "--full");
    assertThat(verify.code()).isEqualTo(1);
    assertThat(verify.out()).contains("PROBLEM CORRUPT_ARTIFACT " + s.artifact().key(),
        "decodes to more than the " + declared);
  }
}
