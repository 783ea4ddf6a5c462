package io.binlogarchive.replication.live;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Collection;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/** TLS layered on the already connected socket after the SSLRequest packet, per {@link TlsMode}. */
final class Tls {
  private Tls() {}

  static SSLSocket layer(Socket plain, SourceConfig config) throws IOException {
    SSLContext context;
    try {
      context = SSLContext.getInstance("TLS");
      context.init(null, trustManagers(config), null);
    } catch (GeneralSecurityException | IOException e) {
      throw new IncompatibleSourceException("cannot set up TLS for " + config.host() + ":" + config.port() + ": "
          + e.getMessage(), e);
    }
    SSLSocket ssl = (SSLSocket) context.getSocketFactory().createSocket(plain, config.host(), config.port(), true);
    ssl.setUseClientMode(true);
    if (config.tls() == TlsMode.VERIFY_IDENTITY) {
      SSLParameters params = ssl.getSSLParameters();
      params.setEndpointIdentificationAlgorithm("HTTPS");
      ssl.setSSLParameters(params);
    }
    try {
      ssl.startHandshake();
    } catch (IOException e) {
      String what = "TLS handshake with " + config.host() + ":" + config.port() + " (mode "
          + config.tls().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-') + ") failed: " + e.getMessage();
      if (certificateRefused(e)) {
        throw new IncompatibleSourceException(what + "; the server's certificate does not verify: give the CA that"
            + " signed it with --ca-file / SourceConfig.caFile, connect by a name the certificate holds, or choose"
            + " another TLS mode", e);
      }
      throw new IOException(what, e);
    }
    return ssl;
  }

  /** Whether the handshake failed because the server's certificate was checked and refused (not a network error). */
  static boolean certificateRefused(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.security.cert.CertificateException || t instanceof java.security.cert.CertPathValidatorException
          || t instanceof java.security.cert.CertPathBuilderException || t instanceof javax.net.ssl.SSLPeerUnverifiedException) {
        return true;
      }
    }
    return false;
  }

  private static TrustManager[] trustManagers(SourceConfig config) throws GeneralSecurityException, IOException {
    if (!config.tls().verifiesChain()) {
      return new TrustManager[] {new AcceptAny()};
    }
    TrustManagerFactory f = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    if (config.caFile() == null) {
      f.init((KeyStore) null);
    } else {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      Collection<? extends Certificate> certs;
      try (InputStream in = Files.newInputStream(config.caFile())) {
        certs = CertificateFactory.getInstance("X.509").generateCertificates(in);
      } catch (GeneralSecurityException e) {
        throw new GeneralSecurityException("CA file " + config.caFile() + " holds no readable PEM certificate: "
            + e.getMessage(), e);
      }
      if (certs.isEmpty()) {
        throw new GeneralSecurityException("CA file " + config.caFile() + " holds no certificate");
      }
      int i = 0;
      for (Certificate c : certs) {
        ks.setCertificateEntry("ca" + i++, c);
      }
      f.init(ks);
    }
    return f.getTrustManagers();
  }

  /** For {@code preferred} and {@code required}: encryption without authentication of the server, as documented. */
  private static final class AcceptAny extends X509ExtendedTrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
