package io.binlogarchive.internal;

/**
 * Package-private methods of an API class, lent to the internal packages: the class hands an
 * implementation over from its static initialiser, and {@link #get()} initialises the class first
 * if it has not been. The {@code *Access} classes hold one each. No compatibility promise.
 *
 * @param <T> the interface the lender implements
 */
public final class Loan<T> {
  private final Class<?> lender;
  private T lent;

  /** @param lender the class whose static initialiser calls {@link #lend(Object)} */
  public Loan(Class<?> lender) {
    this.lender = lender;
  }

  /**
   * @param methods the lender's methods
   * @throws IllegalStateException on a second call
   */
  public synchronized void lend(T methods) {
    if (lent != null) {
      throw new IllegalStateException(lender.getSimpleName() + " has already lent its methods");
    }
    lent = methods;
  }

  /** @return the lender's methods, initialising the lender first if needed */
  public T get() {
    synchronized (this) {
      if (lent != null) {
        return lent;
      }
    }
    try { // outside the lock: the lender's static initialiser calls lend
      Class.forName(lender.getName(), true, lender.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(e);
    }
    synchronized (this) {
      if (lent == null) {
        throw new IllegalStateException(lender.getName() + " did not lend its methods");
      }
      return lent;
    }
  }
}
