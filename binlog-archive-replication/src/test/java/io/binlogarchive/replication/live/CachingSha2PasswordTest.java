package io.binlogarchive.replication.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.binlogarchive.replication.internal.CachingSha2Password;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * caching_sha2_password cannot be exercised against MariaDB: the scramble is checked against values
 * computed independently (Python's hashlib: SHA256(p) XOR SHA256(SHA256(SHA256(p)) || nonce)), the RSA
 * path by decrypting our answer with the openssl command-line tool.
 */
@DisplayName("caching_sha2_password, client side and the server's check")
class CachingSha2PasswordTest {
  @TempDir Path tmp;

  @Test
  @DisplayName("the fast-path scramble matches independently computed values")
  void scramble() {
    byte[] nonce = new byte[20];
    for (int i = 0; i < 20; i++) {
      nonce[i] = (byte) (i + 1);
    }
    assertThat(HexFormat.of().formatHex(CachingSha2Password.scramble("s3cret-Repl!".getBytes(StandardCharsets.UTF_8), nonce)))
        .isEqualTo("dcd8be5d09f9fe3f10e58608cc75a88549b5107006d5bd90abb1718b525bdd64");
    byte[] nonce2 = HexFormat.of().parseHex("3a4f1c0b7e2d5566778899aabbccddeeff102030");
    assertThat(HexFormat.of().formatHex(CachingSha2Password.scramble("pässwörd".getBytes(StandardCharsets.UTF_8), nonce2)))
        .isEqualTo("99b3d661f94369982461508f47b415fa53a2933e3aae4067e1690c8c1580add4");
  }

  @Test
  @DisplayName("the server's check accepts the client's fast-path answer for the right password only, knowing SHA256(SHA256(password))")
  void serverCheck() {
    byte[] nonce = HexFormat.of().parseHex("3a4f1c0b7e2d5566778899aabbccddeeff102030");
    byte[] stored = CachingSha2Password.doubleSha256("pässwörd".getBytes(StandardCharsets.UTF_8));
    assertThat(HexFormat.of().formatHex(stored)).as("SHA256(SHA256(p)), as hashlib computes it")
        .isEqualTo("e2cd1a228188f0703ba30ffe5e1bc013f0ae431d6213e97a9d2b42f78079ceab");
    byte[] right = CachingSha2Password.scramble("pässwörd".getBytes(StandardCharsets.UTF_8), nonce);
    assertThat(CachingSha2Password.check(right, nonce, stored)).isTrue();
    byte[] wrong = CachingSha2Password.scramble("passwörd".getBytes(StandardCharsets.UTF_8), nonce);
    assertThat(CachingSha2Password.check(wrong, nonce, stored)).isFalse();
    byte[] otherNonce = nonce.clone();
    otherNonce[0] ^= 1;
    assertThat(CachingSha2Password.check(right, otherNonce, stored)).as("a replayed answer to another nonce").isFalse();
    assertThat(CachingSha2Password.check(new byte[0], nonce, stored)).isFalse();
  }

  @Test
  @DisplayName("an empty password answers with nothing")
  void emptyPassword() {
    assertThat(CachingSha2Password.scramble(new byte[0], new byte[20])).isEmpty();
  }

  @Test
  @DisplayName("full authentication without TLS: openssl decrypts our RSA-OAEP answer to the password XOR the nonce")
  void rsa() throws Exception {
    Path key = tmp.resolve("key.pem");
    Path pub = tmp.resolve("pub.pem");
    run("openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key.toString());
    run("openssl", "pkey", "-in", key.toString(), "-pubout", "-out", pub.toString());
    byte[] nonce = HexFormat.of().parseHex("3a4f1c0b7e2d5566778899aabbccddeeff102030");
    byte[] password = "a longer password, 30 chars!!".getBytes(StandardCharsets.UTF_8);
    byte[] encrypted = CachingSha2Password.encryptPassword(password, nonce, Files.readString(pub));
    Path enc = tmp.resolve("enc.bin");
    Path dec = tmp.resolve("dec.bin");
    Files.write(enc, encrypted);
    run("openssl", "pkeyutl", "-decrypt", "-inkey", key.toString(), "-pkeyopt", "rsa_padding_mode:oaep",
        "-in", enc.toString(), "-out", dec.toString());
    byte[] plain = Files.readAllBytes(dec);
    assertThat(plain).hasSize(password.length + 1);
    for (int i = 0; i < plain.length; i++) {
      plain[i] ^= nonce[i % 20];
    }
    assertThat(plain[password.length]).as("NUL terminator").isZero();
    assertThat(new String(plain, 0, password.length, StandardCharsets.UTF_8)).isEqualTo("a longer password, 30 chars!!");
  }

  @Test
  @DisplayName("a server key that is not a PEM public key is refused with a clear error")
  void badKey() {
    assertThatThrownBy(() -> CachingSha2Password.encryptPassword(new byte[] {1}, new byte[20], "garbage"))
        .isInstanceOf(GeneralSecurityException.class).hasMessageContaining("PEM");
  }

  static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + new String(out, StandardCharsets.UTF_8)).isZero();
  }
}
