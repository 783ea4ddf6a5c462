package io.binlogarchive.examples;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A small {@code --flag value} parser: unknown flags and missing values are usage errors. Every
 * command that takes {@code --endpoint} also takes the switch {@value #ALLOW_INSECURE_ENDPOINT}.
 */
final class Args {
  private final Map<String, String> values = new LinkedHashMap<>();
  private final List<String> positional = new ArrayList<>();

  /** Allows plain-http endpoints that are not loopback addresses (refused by default). */
  static final String ALLOW_INSECURE_ENDPOINT = "--allow-insecure-endpoint";

  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  Args(String[] argv, int from, Set<String> valued, Set<String> switches) {
    for (int i = from; i < argv.length; i++) {
      String a = argv[i];
      if (a.startsWith("--")) {
        String name = a;
        String inline = null;
        int eq = a.indexOf('=');
        if (eq > 0) {
          name = a.substring(0, eq);
          inline = a.substring(eq + 1);
        }
        if (switches.contains(name) || name.equals(ALLOW_INSECURE_ENDPOINT) && valued.contains("--endpoint")) {
          values.put(name, "true");
        } else if (valued.contains(name)) {
          if (inline == null) {
            if (i + 1 >= argv.length) {
              throw new UsageException(name + " needs a value");
            }
            inline = argv[++i];
          }
          values.put(name, inline);
        } else {
          throw new UsageException("unknown option " + name);
        }
      } else {
        positional.add(a);
      }
    }
  }

  String get(String name) {
    return values.get(name);
  }

  String get(String name, String fallback) {
    return values.getOrDefault(name, fallback);
  }

  String required(String name) {
    String v = values.get(name);
    if (v == null) {
      throw new UsageException(name + " is required");
    }
    return v;
  }

  boolean has(String name) {
    return values.containsKey(name);
  }

  /** @return whether {@value #ALLOW_INSECURE_ENDPOINT} was given */
  boolean allowInsecureEndpoint() {
    return has(ALLOW_INSECURE_ENDPOINT);
  }

  int intValue(String name, int fallback, int min, int max) {
    String v = values.get(name);
    if (v == null) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(v);
      if (n < min || n > max) {
        throw new UsageException(name + " must be " + min + ".." + max + ", got " + v);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new UsageException(name + " must be a number, got '" + v + "'");
    }
  }

  List<String> positional() {
    return positional;
  }
}
