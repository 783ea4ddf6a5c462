package io.binlogarchive.replication.serve;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * The server side of TLS: a certificate chain and its private key read from PEM files, and a
 * server-mode {@link SSLSocket} layered on a replica's connection after its SSLRequest packet.
 */
final class ServerTls {
  private static final String BEGIN_KEY = "-----BEGIN PRIVATE KEY-----";
  private static final String END_KEY = "-----END PRIVATE KEY-----";

  private final SSLContext context;

  private ServerTls(SSLContext context) {
    this.context = context;
  }

  /**
   * Reads the certificate chain (PEM, the server's certificate first) and the unencrypted PKCS#8
   * private key (PEM {@code BEGIN PRIVATE KEY}, RSA or EC) and checks that they belong together.
   *
   * @throws IOException naming the file that cannot be read or is not what it should be (never
   *     showing the key's contents)
   */
  static ServerTls load(Path certificateChain, Path privateKey) throws IOException {
    Certificate[] chain = readChain(certificateChain);
    PrivateKey key = readKey(privateKey, chain[0].getPublicKey().getAlgorithm());
    try {
      requireMatch(key, chain[0]);
    } catch (GeneralSecurityException e) {
      throw new IOException("the private key in " + privateKey + " does not belong to the certificate in "
          + certificateChain + " (" + e.getMessage() + ")", e);
    }
    try {
      char[] none = new char[0];
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("serve", key, none, chain);
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, none);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(kmf.getKeyManagers(), null, null);
      return new ServerTls(context);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot set up TLS with the certificate in " + certificateChain + ": " + e.getMessage(), e);
    }
  }

  /** Takes over {@code plain} (its SSLRequest packet read, nothing more) with a server-mode TLS handshake. */
  SSLSocket accept(Socket plain) throws IOException {
    // nothing after the SSLRequest was read from the plain socket (the handshake reads it unbuffered)
    SSLSocket ssl = (SSLSocket) context.getSocketFactory().createSocket(plain, null, true);
    ssl.startHandshake();
    return ssl;
  }

  private static Certificate[] readChain(Path file) throws IOException {
    Collection<? extends Certificate> certs;
    try (var in = Files.newInputStream(file)) {
      certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
    } catch (GeneralSecurityException e) {
      throw new IOException("the TLS certificate file " + file + " holds no readable PEM certificate: "
          + e.getMessage(), e);
    } catch (IOException e) {
      throw new IOException("cannot read the TLS certificate file " + file + ": " + e.getMessage(), e);
    }
    if (certs.isEmpty()) {
      throw new IOException("the TLS certificate file " + file + " holds no certificate");
    }
    return certs.toArray(Certificate[]::new);
  }

  private static PrivateKey readKey(Path file, String algorithm) throws IOException {
    byte[] raw;
    try {
      raw = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IOException("cannot read the TLS private key file " + file + ": " + e.getMessage(), e);
    }
    String text = new String(raw, StandardCharsets.US_ASCII);
    Arrays.fill(raw, (byte) 0);
    int begin = text.indexOf(BEGIN_KEY);
    int end = text.indexOf(END_KEY);
    if (begin < 0 || end < begin) {
      String hint = text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") ? "it is encrypted"
          : text.contains("PRIVATE KEY-----") ? "it is not in PKCS#8 form" : "it holds no PEM private key";
      throw new IOException("the TLS private key file " + file + " must hold an unencrypted PKCS#8 key ('" + BEGIN_KEY
          + "'), but " + hint + "; convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pkcs8.pem");
    }
    byte[] der = null;
    try {
      der = Base64.getMimeDecoder().decode(text.substring(begin + BEGIN_KEY.length(), end));
      return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (IllegalArgumentException | GeneralSecurityException e) {
      throw new IOException("the TLS private key file " + file + " holds no readable " + algorithm + " PKCS#8 key", e);
    } finally {
      if (der != null) {
        Arrays.fill(der, (byte) 0);
      }
    }
  }

  /** Signs a random message with the key and verifies it with the certificate. */
  private static void requireMatch(PrivateKey key, Certificate certificate) throws GeneralSecurityException {
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> throw new GeneralSecurityException("unsupported key algorithm " + key.getAlgorithm());
    };
    byte[] message = new byte[32];
    new SecureRandom().nextBytes(message);
    Signature sign = Signature.getInstance(algorithm);
    sign.initSign(key);
    sign.update(message);
    byte[] signature = sign.sign();
    Signature verify = Signature.getInstance(algorithm);
    verify.initVerify(certificate);
    verify.update(message);
    if (!verify.verify(signature)) {
      throw new GeneralSecurityException("a signature made with the key does not verify with the certificate");
    }
  }
}
