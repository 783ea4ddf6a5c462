package io.binlogarchive.replication.live;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Certificates made for a test with the openssl command line: a CA, a server certificate it signed
 * for IP 127.0.0.1 only (with its unencrypted PKCS#8 key), and another CA with its own key.
 *
 * @param ca the test CA's certificate (PEM)
 * @param serverCertificate the server certificate, signed by {@code ca}, IP SAN 127.0.0.1
 * @param serverKey its private key (PEM, {@code BEGIN PRIVATE KEY})
 * @param otherCa a CA that signed nothing here
 * @param otherKey the other CA's key: belongs to no server certificate
 */
public record TestCertificates(Path ca, Path serverCertificate, Path serverKey, Path otherCa, Path otherKey) {

  /** Makes them in {@code dir} (created). */
  public static TestCertificates make(Path dir) throws Exception {
    Files.createDirectories(dir);
    TestCertificates c = new TestCertificates(dir.resolve("ca.pem"), dir.resolve("server.pem"), dir.resolve("server.key"),
        dir.resolve("other-ca.pem"), dir.resolve("other.key"));
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=binlog-archive test CA", "-keyout", dir.resolve("ca.key").toString(), "-out", c.ca.toString());
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=another CA", "-keyout", c.otherKey.toString(), "-out", c.otherCa.toString());
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=server under test",
        "-keyout", c.serverKey.toString(), "-out", dir.resolve("server.csr").toString());
    Files.writeString(dir.resolve("ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
    run("openssl", "x509", "-req", "-in", dir.resolve("server.csr").toString(),
        "-CA", c.ca.toString(), "-CAkey", dir.resolve("ca.key").toString(), "-CAcreateserial", "-days", "2",
        "-extfile", dir.resolve("ext.cnf").toString(), "-out", c.serverCertificate.toString());
    return c;
  }

  /** Runs a command (bounded), failing with its output if it fails. */
  public static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError(String.join(" ", cmd) + ": " + new String(out, StandardCharsets.UTF_8));
    }
  }
}
