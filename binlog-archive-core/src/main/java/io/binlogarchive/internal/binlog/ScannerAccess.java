package io.binlogarchive.internal.binlog;

import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.binlog.BinlogScanner;
import io.binlogarchive.internal.Loan;

/**
 * What the archive pipeline needs of a {@link BinlogScanner} beyond its public API: the end of a
 * file a crash cut short, and the transaction boundaries and snapshots of a binlog still being
 * written. These are package-private in {@code BinlogScanner}, which lends them here when its class
 * initialises. No compatibility promise.
 */
public final class ScannerAccess {
  /** The scanner's package-private methods, as {@code BinlogScanner} lends them. */
  public interface Lent {
    /** @see #finishCrashed(BinlogScanner) */
    BinlogInfo finishCrashed(BinlogScanner s);

    /** @see #endedInsideTransaction(BinlogScanner) */
    boolean endedInsideTransaction(BinlogScanner s);

    /** @see #atTransactionBoundary(BinlogScanner) */
    boolean atTransactionBoundary(BinlogScanner s);

    /** @see #snapshot(BinlogScanner) */
    BinlogInfo snapshot(BinlogScanner s);
  }

  private static final Loan<Lent> LOAN = new Loan<>(BinlogScanner.class);

  private ScannerAccess() {}

  /**
   * Called once, by {@code BinlogScanner}'s static initialiser.
   *
   * @param l the scanner's methods
   * @throws IllegalStateException on a second call
   */
  public static void lend(Lent l) {
    LOAN.lend(l);
  }

  /**
   * Ends the scan of a binlog the server crashed while writing: what its complete events hold (see
   * {@code BinlogScanner.finishCrashed()}).
   *
   * @param s the scanner, fed the whole file
   * @return what the file's complete events hold
   */
  public static BinlogInfo finishCrashed(BinlogScanner s) {
    return LOAN.get().finishCrashed(s);
  }

  /**
   * @param s a finished scanner
   * @return whether the file ended inside a transaction (after its GTID or BEGIN, before its commit)
   */
  public static boolean endedInsideTransaction(BinlogScanner s) {
    return LOAN.get().endedInsideTransaction(s);
  }

  /**
   * @param s a scanner of an open binlog
   * @return whether the bytes fed so far end between two events and outside any transaction
   */
  public static boolean atTransactionBoundary(BinlogScanner s) {
    return LOAN.get().atTransactionBoundary(s);
  }

  /**
   * @param s a scanner at a transaction boundary
   * @return what the bytes fed so far hold, without ending the scan
   */
  public static BinlogInfo snapshot(BinlogScanner s) {
    return LOAN.get().snapshot(s);
  }
}
