package io.binlogarchive.store.spi;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The transport rule for the endpoints of stores and key services, shared by the store modules'
 * builders: credentials, bearer tokens and data keys never travel over plain {@code http://},
 * except to this host's loopback interface ({@code 127.0.0.0/8}, {@code ::1}, {@code localhost}),
 * where test servers and local proxies live. Anything else needs https or an explicit opt-in.
 *
 * <p>The check looks at the endpoint's text only: it never resolves a name or connects, so it runs
 * before any byte is sent. A host name other than {@code localhost} counts as remote even if it
 * resolves to a loopback address.
 */
public final class Endpoints {
  private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");

  private Endpoints() {}

  /**
   * Refuses a plain-http endpoint that is not a loopback address, unless allowed.
   *
   * @param endpoint the endpoint; {@code null} (the service's default https endpoint) passes
   * @param what what the endpoint is for, e.g. {@code "the S3 client"}, for the message
   * @param allowInsecure the caller's explicit opt-in to plain http on the network
   * @throws IllegalArgumentException naming the endpoint and how to proceed
   */
  public static void checkTransport(URI endpoint, String what, boolean allowInsecure) {
    String problem = transportProblem(endpoint, what, allowInsecure);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
  }

  /**
   * The same check as {@link #checkTransport}, for builders that report every problem at once.
   *
   * @param endpoint the endpoint; {@code null} (the service's default https endpoint) passes
   * @param what what the endpoint is for, for the message
   * @param allowInsecure the caller's explicit opt-in to plain http on the network
   * @return why the endpoint is refused, or {@code null} if it is acceptable
   */
  public static String transportProblem(URI endpoint, String what, boolean allowInsecure) {
    if (endpoint == null || allowInsecure || !"http".equalsIgnoreCase(endpoint.getScheme())
        || isLoopback(endpoint.getHost())) {
      return null;
    }
    return "refusing the plain http endpoint " + endpoint + " of " + what
        + ": it is not a loopback address, so credentials, tokens and data keys would cross the network"
        + " unencrypted; use https, or allow it explicitly (allowInsecureEndpoint(true) on the builder,"
        + " --allow-insecure-endpoint on the command line)";
  }

  /**
   * @param host a URI's host: a name, an IPv4 literal or a bracketed IPv6 literal; may be null
   * @return whether it is {@code localhost}, in {@code 127.0.0.0/8} or {@code ::1}
   */
  public static boolean isLoopback(String host) {
    if (host == null || host.isEmpty()) {
      return false;
    }
    String h = host.toLowerCase(Locale.ROOT);
    if (h.equals("localhost")) {
      return true;
    }
    if (IPV4.matcher(h).matches()) {
      String[] octets = h.split("\\.");
      for (String o : octets) {
        if (Integer.parseInt(o) > 255) {
          return false;
        }
      }
      return Integer.parseInt(octets[0]) == 127;
    }
    if (h.startsWith("[") && h.endsWith("]")) {
      try {
        // bracketed, the JDK parses it as an IPv6 literal and never looks it up
        return InetAddress.getByName(h).isLoopbackAddress();
      } catch (UnknownHostException e) {
        return false;
      }
    }
    return false; // a name: never resolved here
  }
}
