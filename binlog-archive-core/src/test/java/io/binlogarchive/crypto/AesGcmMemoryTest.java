package io.binlogarchive.crypto;

import io.binlogarchive.codec.Transform;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@DisplayName("decryption memory is bounded")
class AesGcmMemoryTest {

  @Test
  @DisplayName("a 1 GiB artifact decrypts in a child JVM limited to -Xmx64m with the right SHA-256")
  void oneGibUnder64Mib(@TempDir Path dir) throws Exception {
    long size = 1L << 30;
    Path keyFile = Files.write(dir.resolve("mem.key"), CryptoTestSupport.key(77));
    Path childErr = dir.resolve("child.err");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child =
        new ProcessBuilder(
                List.of(java, "-Xmx64m", "-cp", System.getProperty("java.class.path"),
                    AesGcmDecryptProbe.class.getName(), keyFile.toString(), "mem"))
            .redirectError(childErr.toFile())
            .start();
    AesGcmTransform t = Transform.aesGcm(StaticKeyProvider.builder().keyFile("mem", keyFile).build());
    MessageDigest sent = CryptoTestSupport.sha256();
    // The parent generates and encrypts on the fly into the child's standard input.
    CompletableFuture<Void> feeder =
        CompletableFuture.runAsync(
            () -> {
              byte[] buf = new byte[1 << 20];
              try (InputStream src = new CryptoTestSupport.GeneratedInputStream(size, 5);
                  OutputStream w = t.wrap(new BufferedOutputStream(child.getOutputStream(), 1 << 16))) {
                int n;
                while ((n = src.read(buf, 0, buf.length)) >= 0) {
                  sent.update(buf, 0, n);
                  w.write(buf, 0, n);
                }
              } catch (Exception e) {
                throw new RuntimeException(e);
              }
            });
    String out;
    try (InputStream childOut = child.getInputStream()) {
      out = new String(childOut.readAllBytes(), StandardCharsets.UTF_8).trim();
    }
    // A hang guard, not a timing assertion.
    assertThat(child.waitFor(10, TimeUnit.MINUTES)).isTrue();
    feeder.get(1, TimeUnit.MINUTES);
    assertThat(child.exitValue()).as("child exit code; stderr: %s", Files.readString(childErr)).isZero();
    String[] fields = out.split(" ");
    assertThat(Long.parseLong(fields[0])).isEqualTo(size);
    assertThat(fields[1]).isEqualTo(HexFormat.of().formatHex(sent.digest()));
    assertThat(Long.parseLong(fields[2])).isLessThanOrEqualTo(64L << 20);
  }
}
