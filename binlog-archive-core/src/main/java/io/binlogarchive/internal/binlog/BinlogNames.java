package io.binlogarchive.internal.binlog;

/** Parses binlog file names of the form {@code <basename>.<digits>}. */
public final class BinlogNames {
  private BinlogNames() {}

  /**
   * @return the numeric suffix, or -1 if the name has none
   */
  public static long sequence(String name) {
    int dot = name.lastIndexOf('.');
    if (dot < 0 || dot == name.length() - 1) {
      return -1;
    }
    String digits = name.substring(dot + 1);
    if (digits.length() > 18) {
      return -1;
    }
    for (int i = 0; i < digits.length(); i++) {
      if (digits.charAt(i) < '0' || digits.charAt(i) > '9') {
        return -1;
      }
    }
    return Long.parseLong(digits);
  }

  public static String baseName(String name) {
    int dot = name.lastIndexOf('.');
    return dot < 0 ? name : name.substring(0, dot);
  }

  /** A name that is safe as one path element: no separators, no {@code ..}, no control chars. */
  public static boolean isPlainFileName(String name) {
    if (name.isEmpty() || name.equals(".") || name.equals("..")) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == '/' || c == '\\' || c < 0x20) {
        return false;
      }
    }
    return true;
  }
}
