package io.binlogarchive.replication.live;

import static io.binlogarchive.replication.live.ReplicationClient.CACHING_SHA2;
import static io.binlogarchive.replication.live.ReplicationClient.NATIVE;

import io.binlogarchive.replication.internal.CachingSha2Password;
import io.binlogarchive.replication.internal.NativePassword;
import io.binlogarchive.replication.internal.PacketChannel;
import io.binlogarchive.replication.internal.PayloadReader;
import io.binlogarchive.replication.internal.PayloadWriter;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Locale;
import javax.net.ssl.SSLSocket;

/**
 * The start of a {@link ReplicationClient}'s connection: the server's greeting (protocol 10, 4.1
 * capabilities), the switch to TLS when the config asks for it and the server offers it, and
 * authentication with {@code mysql_native_password} or {@code caching_sha2_password} (fast path,
 * full authentication in clear over TLS or RSA-encrypted without), following the server's plugin
 * switches. The password's bytes are wiped once sent. Used once per connection, before anything
 * else reads or writes it.
 */
final class ClientHandshake {
  static final int CLIENT_LONG_PASSWORD = 1;
  static final int CLIENT_LONG_FLAG = 4;
  static final int CLIENT_CONNECT_WITH_DB = 8;
  static final int CLIENT_PROTOCOL_41 = 0x200;
  static final int CLIENT_SSL = 0x800;
  static final int CLIENT_TRANSACTIONS = 0x2000;
  static final int CLIENT_SECURE_CONNECTION = 0x8000;
  static final int CLIENT_MULTI_RESULTS = 0x20000;
  static final int CLIENT_PLUGIN_AUTH = 0x80000;
  static final int CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA = 0x200000;

  static final int UTF8MB4_GENERAL_CI = 45;

  private final SourceConfig config;
  private final Socket socket;
  private final ReplicationClient.SwitchableStreams streams;
  private final PacketChannel channel;
  /** What the greeting and the TLS switch told, once {@link #run} has returned. */
  String serverVersion;
  long connectionId;
  boolean tls;

  ClientHandshake(SourceConfig config, Socket socket, ReplicationClient.SwitchableStreams streams,
      PacketChannel channel) {
    this.config = config;
    this.socket = socket;
    this.streams = streams;
    this.channel = channel;
  }

  /**
   * Reads the greeting, layers TLS if the config asks and the server offers it, and authenticates.
   *
   * @param firstPlugin answer with this plugin instead of the one the server names; null for that one
   */
  void run(String firstPlugin) throws IOException {
    byte[] greeting = channel.read();
    if ((greeting[0] & 0xFF) == 0xFF) {
      throw ReplicationClient.error("connecting to " + config.host() + ":" + config.port(), greeting);
    }
    PayloadReader r = new PayloadReader(greeting);
    int protocol = r.u8();
    if (protocol != 10) {
      throw new IncompatibleSourceException("server " + config.host() + ":" + config.port() + " speaks handshake protocol "
          + protocol + "; only protocol 10 is supported", null);
    }
    serverVersion = r.nulString();
    connectionId = r.fixed(4);
    byte[] part1 = r.bytes(8);
    r.skip(1);
    long caps = r.fixed(2);
    String plugin = NATIVE;
    byte[] nonce = part1;
    if (r.remaining() > 0) {
      r.skip(1); // character set
      r.skip(2); // status
      caps |= r.fixed(2) << 16;
      int authLen = r.u8();
      r.skip(10);
      if ((caps & CLIENT_SECURE_CONNECTION) != 0) {
        int n = Math.max(13, authLen - 8);
        byte[] part2 = r.bytes(Math.min(n, r.remaining()));
        int keep = part2.length > 0 && part2[part2.length - 1] == 0 ? part2.length - 1 : part2.length;
        nonce = new byte[8 + keep];
        System.arraycopy(part1, 0, nonce, 0, 8);
        System.arraycopy(part2, 0, nonce, 8, keep);
      }
      if ((caps & CLIENT_PLUGIN_AUTH) != 0 && r.remaining() > 0) {
        plugin = r.nulString();
      }
    }
    if (firstPlugin != null) {
      plugin = firstPlugin;
    }
    if ((caps & CLIENT_PROTOCOL_41) == 0) {
      throw new IncompatibleSourceException("server " + config.host() + ":" + config.port() + " (" + serverVersion
          + ") does not speak protocol 4.1", null);
    }
    long flags = CLIENT_LONG_PASSWORD | CLIENT_LONG_FLAG | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS
        | CLIENT_SECURE_CONNECTION | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH | CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA;
    flags &= caps | CLIENT_LONG_PASSWORD;
    TlsMode mode = config.tls();
    boolean serverTls = (caps & CLIENT_SSL) != 0;
    if (mode != TlsMode.DISABLED && mode != TlsMode.PREFERRED && !serverTls) {
      throw new IncompatibleSourceException("TLS mode " + mode.name().toLowerCase(Locale.ROOT).replace('_', '-')
          + " but server " + config.host() + ":" + config.port() + " does not offer TLS (start it with a certificate,"
          + " or choose another mode)", null);
    }
    if (mode != TlsMode.DISABLED && serverTls) {
      flags |= CLIENT_SSL;
      byte[] sslRequest = new PayloadWriter().fixed(flags, 4).fixed(1 << 24, 4).u8(UTF8MB4_GENERAL_CI).zeros(23)
          .toByteArray();
      channel.write(sslRequest);
      SSLSocket ssl = Tls.layer(socket, config);
      streams.switchTo(new BufferedInputStream(ssl.getInputStream(), 1 << 16),
          new BufferedOutputStream(ssl.getOutputStream(), 1 << 14));
      tls = true;
    }
    char[] password = config.password();
    byte[] pw = utf8(password);
    Arrays.fill(password, '\0');
    try {
      byte[] auth = authAnswer("authenticating " + config.user() + " at " + config.host() + ":" + config.port(), plugin,
          pw, nonce);
      PayloadWriter w = new PayloadWriter().fixed(flags, 4).fixed(1 << 24, 4).u8(UTF8MB4_GENERAL_CI).zeros(23)
          .nulString(config.user());
      if ((flags & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) != 0) {
        w.lenenc(auth.length).bytes(auth);
      } else {
        w.u8(auth.length).bytes(auth);
      }
      w.nulString(plugin);
      channel.write(w.toByteArray());
      authenticate(plugin, pw, nonce);
    } finally {
      Arrays.fill(pw, (byte) 0);
    }
  }

  private void authenticate(String plugin, byte[] pw, byte[] nonce) throws IOException {
    String what = "authenticating " + config.user() + " at " + config.host() + ":" + config.port();
    while (true) {
      byte[] p = channel.read();
      int status = p.length == 0 ? -1 : p[0] & 0xFF;
      switch (status) {
        case 0x00:
          return;
        case 0xFF:
          throw ReplicationClient.error(what, p);
        case 0xFE: {
          if (p.length == 1) {
            throw new IncompatibleSourceException(what + ": the server asks for the pre-4.1 password scheme"
                + " (mysql_old_password), which is not supported; give the account mysql_native_password", null);
          }
          PayloadReader r = new PayloadReader(p).skip(1);
          plugin = r.nulString();
          byte[] data = r.rest();
          nonce = data.length > 0 && data[data.length - 1] == 0 ? Arrays.copyOf(data, data.length - 1) : data;
          channel.write(authAnswer(what, plugin, pw, nonce));
          break;
        }
        case 0x01: {
          if (!CACHING_SHA2.equals(plugin)) {
            throw new IOException(what + ": unexpected auth-more-data for plugin " + plugin);
          }
          int more = p.length > 1 ? p[1] & 0xFF : -1;
          if (more == CachingSha2Password.FAST_AUTH_SUCCESS) {
            break; // an OK follows
          }
          if (more != CachingSha2Password.PERFORM_FULL_AUTHENTICATION) {
            throw new IOException(what + ": unexpected caching_sha2_password status " + more);
          }
          fullSha2Authentication(what, pw, nonce);
          break;
        }
        default:
          throw new IOException(what + ": unexpected packet 0x" + Integer.toHexString(status) + " during authentication");
      }
    }
  }

  private void fullSha2Authentication(String what, byte[] pw, byte[] nonce) throws IOException {
    if (tls) {
      byte[] clear = Arrays.copyOf(pw, pw.length + 1);
      try {
        channel.write(clear);
      } finally {
        Arrays.fill(clear, (byte) 0);
      }
      return;
    }
    channel.write(new byte[] {(byte) CachingSha2Password.REQUEST_PUBLIC_KEY});
    byte[] keyPacket = channel.read();
    if (keyPacket.length == 0 || (keyPacket[0] & 0xFF) != 0x01) {
      if (keyPacket.length > 0 && (keyPacket[0] & 0xFF) == 0xFF) {
        throw ReplicationClient.error(what + " (asking for the server's RSA public key)", keyPacket);
      }
      throw new IOException(what + ": the server did not send its RSA public key");
    }
    String pem = new String(keyPacket, 1, keyPacket.length - 1, StandardCharsets.US_ASCII);
    try {
      channel.write(CachingSha2Password.encryptPassword(pw, nonce, pem));
    } catch (GeneralSecurityException e) {
      throw new IOException(what + ": cannot encrypt the password with the server's RSA key: " + e.getMessage(), e);
    }
  }

  static byte[] authAnswer(String what, String plugin, byte[] pw, byte[] nonce) throws IOException {
    switch (plugin) {
      case NATIVE:
        return NativePassword.scramble(pw, nonce);
      case CACHING_SHA2:
        return CachingSha2Password.scramble(pw, nonce);
      default:
        throw new IncompatibleSourceException(what + ": the server asks for authentication plugin '" + plugin
            + "', which this client does not speak (supported: mysql_native_password, caching_sha2_password);"
            + " give the account one of those", null);
    }
  }

  private static byte[] utf8(char[] password) {
    ByteBuffer b = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
    byte[] out = new byte[b.remaining()];
    b.get(out);
    if (b.hasArray()) {
      Arrays.fill(b.array(), (byte) 0);
    }
    return out;
  }
}
