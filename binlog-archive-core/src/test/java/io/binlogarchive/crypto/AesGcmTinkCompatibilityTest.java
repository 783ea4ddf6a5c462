package io.binlogarchive.crypto;

import io.binlogarchive.codec.Transform;
import static io.binlogarchive.crypto.CryptoTestSupport.data;
import static io.binlogarchive.crypto.CryptoTestSupport.decrypt;
import static io.binlogarchive.crypto.CryptoTestSupport.encrypt;
import static io.binlogarchive.crypto.CryptoTestSupport.key;
import static io.binlogarchive.crypto.CryptoTestSupport.outerHeaderLength;
import static io.binlogarchive.crypto.CryptoTestSupport.provider;
import static io.binlogarchive.crypto.CryptoTestSupport.sequence;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.crypto.tink.subtle.AesGcmHkdfStreaming;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@DisplayName("AES-256-GCM artifacts against Tink's AesGcmHkdfStreaming and the documented test vector")
class AesGcmTinkCompatibilityTest {

  /** Remembers a copy of every data key handed out, so Tink can be given the same key. */
  static final class RecordingKeys implements KeyProvider {
    final StaticKeyProvider delegate = provider("tink-check", key(21));
    byte[] last;

    @Override
    public String primaryKeyId() {
      return delegate.primaryKeyId();
    }

    @Override
    public DataKey newDataKey() {
      DataKey k = delegate.newDataKey();
      last = k.plaintext().clone();
      return k;
    }

    @Override
    public DataKey wrap(byte[] plaintextKey) {
      return delegate.wrap(plaintextKey);
    }

    @Override
    public DataKey unwrap(String keyId, byte[] wrappedKey) {
      return delegate.unwrap(keyId, wrappedKey);
    }
  }

  static Stream<Arguments> cases() {
    int big = 1 << 20;
    return Stream.of(
        Arguments.of(256, 0), Arguments.of(256, 1), Arguments.of(256, 199), Arguments.of(256, 200),
        Arguments.of(256, 201), Arguments.of(256, 440), Arguments.of(256, 441),
        Arguments.of(256, 5000), Arguments.of(big, 0), Arguments.of(big, big - 56),
        Arguments.of(big, big - 55), Arguments.of(big, 2 * big + 12345));
  }

  static AesGcmHkdfStreaming tink(byte[] ikm, int segmentSize) throws GeneralSecurityException {
    return new AesGcmHkdfStreaming(ikm, "HmacSha256", 32, segmentSize, 0);
  }

  @ParameterizedTest(name = "segment {0}, {1} bytes")
  @MethodSource("cases")
  @DisplayName("Tink decrypts what we encrypt, given the data key and the header's associated data")
  void oursToTink(int segmentSize, int size) throws Exception {
    RecordingKeys keys = new RecordingKeys();
    AesGcmTransform t = Transform.aesGcm(keys).segmentSize(segmentSize).innerCodec("zstd");
    byte[] pt = data(size, size + 1);
    byte[] artifact = encrypt(t, pt);
    AesGcmHeader header = AesGcmHeader.read(new ByteArrayInputStream(artifact));
    int start = outerHeaderLength(artifact);
    InputStream stream = new ByteArrayInputStream(artifact, start, artifact.length - start);
    try (InputStream r = tink(keys.last, segmentSize).newDecryptingStream(stream, header.associatedData())) {
      assertThat(Arrays.equals(r.readAllBytes(), pt)).as("Tink's plaintext equals ours").isTrue();
    }
  }

  @ParameterizedTest(name = "segment {0}, {1} bytes")
  @MethodSource("cases")
  @DisplayName("we decrypt a Tink stream placed after our header, byte for byte the same format")
  void tinkToOurs(int segmentSize, int size) throws Exception {
    StaticKeyProvider keys = provider("tink-check", key(22));
    byte[] dataKey = key(23);
    byte[] pt = data(size, size + 2);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (DataKey dk = keys.wrap(dataKey)) {
      AesGcmHeader header = new AesGcmHeader(segmentSize, "gzip", dk.keyId(), dk.wrappedKey());
      out.write(header.encode());
      try (OutputStream w = tink(dataKey, segmentSize).newEncryptingStream(out, header.associatedData())) {
        w.write(pt);
      }
    }
    AesGcmTransform t = Transform.aesGcm(keys).innerCodec("gzip");
    assertThat(Arrays.equals(decrypt(t, out.toByteArray()), pt)).as("our plaintext equals Tink's").isTrue();
  }

  // ---- the documented test vector (docs/encryption-format.md) ----

  static final String VECTOR_HEX =
      "424c4145010100000080047a737464000a766563746f722d6b6579003ca0a1a2a3a4a5a6a7a8a9aa"
          + "ab6699feaec14e8438eaec0d588bf74e51e03dcb830622d4fb0497bc1de336eb9e2f37545cc9dcbe"
          + "b6fb2c299660f6b0e846d8c61428c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9"
          + "dadbdcdddedfe0e1e2e3e4e5e687e9232a1f027bfa24ac98030b97b0c2c6e9560d79b0ad3f18cf93"
          + "c06157a35545b22e7c0e89bf0c43f3b00df203fdd3ce788c316837c85e49ac45c230addabe463fbf"
          + "769bb10b01f3ada5e603c29d57ac0344cc842d4a3d0dec18819685723bb27e2b51aca2428d61c1bf"
          + "57d57a1eebf22510a1276132f70239619b9db6e9edaf04438c321072c88db271f9b90ec4a4338478"
          + "a32168086c31d042afde359cbb7e22e6e2504cbd3f449a1aec477e02eb0961c7052b36083e2cd54d"
          + "c42275e5924e3609cc77717207736f99748c0799dbbc15c39ca45fcb435e64b27a4fd864279c2fa4"
          + "2daef7620f684858e3c32e076c415a18018a7e51af";

  static byte[] vectorArtifact() {
    CryptoTestSupport.ScriptedRandom random =
        new CryptoTestSupport.ScriptedRandom(
            sequence(0x80, 32), // data key
            sequence(0xa0, 12), // nonce for wrapping the data key
            sequence(0xc0, 32), // HKDF salt
            sequence(0xe0, 7)); // nonce prefix
    StaticKeyProvider keys =
        StaticKeyProvider.builder().key("vector-key", sequence(0x00, 32)).random(random).build();
    return encrypt(new AesGcmTransform(keys, 128, "zstd", random), sequence(0, 200));
  }

  @Test
  @DisplayName("the fixed key, salt, nonce prefix and plaintext give the documented ciphertext")
  void testVector() throws IOException {
    String hex = HexFormat.of().formatHex(vectorArtifact());
    assertThat(hex).isEqualTo(VECTOR_HEX);
    String doc = Files.readString(Path.of("..", "docs", "encryption-format.md"), StandardCharsets.UTF_8);
    assertThat(doc.replaceAll("\\s", "")).contains(VECTOR_HEX);
  }

  @Test
  @DisplayName("the documented ciphertext decrypts to the plaintext, by us and by Tink")
  void testVectorDecrypts() throws Exception {
    byte[] artifact = HexFormat.of().parseHex(VECTOR_HEX);
    StaticKeyProvider keys = StaticKeyProvider.builder().key("vector-key", sequence(0x00, 32)).build();
    assertThat(decrypt(Transform.aesGcm(keys), artifact)).isEqualTo(sequence(0, 200));
    AesGcmHeader header = AesGcmHeader.read(new ByteArrayInputStream(artifact));
    int start = outerHeaderLength(artifact);
    try (InputStream r =
        tink(sequence(0x80, 32), 128)
            .newDecryptingStream(
                new ByteArrayInputStream(artifact, start, artifact.length - start),
                header.associatedData())) {
      assertThat(r.readAllBytes()).isEqualTo(sequence(0, 200));
    }
  }

  @Test
  @DisplayName("HKDF-SHA256 matches RFC 5869 test case 1 (first 32 bytes of the OKM)")
  void hkdfRfc5869() {
    HexFormat hex = HexFormat.of();
    byte[] okm =
        AesGcmSegmentCipher.hkdfSha256(
            hex.parseHex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"),
            hex.parseHex("000102030405060708090a0b0c"),
            hex.parseHex("f0f1f2f3f4f5f6f7f8f9"),
            32);
    assertThat(hex.formatHex(okm))
        .isEqualTo("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf");
  }
}
