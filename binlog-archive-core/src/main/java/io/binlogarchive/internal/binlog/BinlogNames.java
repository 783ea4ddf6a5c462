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

  /**
   * Bytes of a server's binlogs past a position: the rest of the file at {@code sequence} from
   * {@code offset}, and every listed file after it whole.
   *
   * @param sizes the server's binlogs and their sizes (names of the form {@code <basename>.<digits>})
   * @param sequence the sequence of the position's file (its files before are not counted)
   * @param offset the offset in that file ({@link Long#MAX_VALUE} for its end)
   * @return the bytes past the position, never negative
   */
  public static long bytesAfter(java.util.Map<String, Long> sizes, long sequence, long offset) {
    long bytes = 0;
    for (java.util.Map.Entry<String, Long> e : sizes.entrySet()) {
      long s = sequence(e.getKey());
      if (s > sequence) {
        bytes += e.getValue();
      } else if (s == sequence) {
        bytes += Math.max(0, e.getValue() - offset);
      }
    }
    return bytes;
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
