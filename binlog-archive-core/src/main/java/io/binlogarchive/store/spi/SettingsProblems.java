package io.binlogarchive.store.spi;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Collects what is wrong with a builder's settings (a sink's, a key provider's; the archiver and
 * the reader use it too), so that its {@code build()} reports every missing or conflicting setting
 * in one error rather than the first one alone. Setters still reject a bad single value at once;
 * this is for what only the whole can tell.
 *
 * <pre>{@code
 * new SettingsProblems()
 *     .unless(client != null, "client is required")
 *     .add(Endpoints.transportProblem(endpoint, "the client", allowInsecure))
 *     .throwIfAny(all -> new IllegalStateException("invalid MySink settings: " + all));
 * }</pre>
 *
 * <p>Not thread-safe: one per {@code build()} call.
 */
public final class SettingsProblems {
  private final List<String> problems = new ArrayList<>();

  /** Starts with no problem. */
  public SettingsProblems() {}

  /**
   * Records {@code problem} unless {@code ok}.
   *
   * @param ok whether the condition holds
   * @param problem what is wrong otherwise, as a phrase naming the setting
   * @return this
   */
  public SettingsProblems unless(boolean ok, String problem) {
    if (!ok) {
      problems.add(problem);
    }
    return this;
  }

  /**
   * Records a problem found elsewhere, such as {@link Endpoints#transportProblem}.
   *
   * @param problemOrNull the problem, or {@code null} for none
   * @return this
   */
  public SettingsProblems add(String problemOrNull) {
    if (problemOrNull != null) {
      problems.add(problemOrNull);
    }
    return this;
  }

  /**
   * Throws if any problem was recorded.
   *
   * @param error makes the exception from all problems, joined with {@code "; "}
   * @param <E> the exception type the builder documents
   * @throws E if there is at least one problem
   */
  public <E extends RuntimeException> void throwIfAny(Function<String, E> error) {
    if (!problems.isEmpty()) {
      throw error.apply(String.join("; ", problems));
    }
  }
}
