package io.binlogarchive.examples;

import io.binlogarchive.ArchiveException;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A command of the runner. Subclasses declare their options with picocli annotations and do their
 * work in {@link #execute()}; a {@link UsageException} there exits 2, an {@code ArchiveException},
 * {@code IOException}, {@code IllegalArgumentException} or {@code IllegalStateException} exits 1,
 * each as one line on stderr (see {@link Main}).
 *
 * <p>To add a command: write a small subclass annotated {@code @Command(name = "...", description =
 * "...")} and add its class to {@link Cli#COMMANDS} (a sub-subcommand, as {@code restore plan}, to
 * the {@code subcommands} of its parent). Help, completion and the README check pick it up; see
 * also {@code docs/cli.md}.
 */
abstract class CliCommand implements Callable<Integer> {
  @Mixin CliOptions.Global global;

  @Spec CommandSpec spec;

  /** Set by {@link Main}'s factory before parsing. */
  Io io;

  /** Where a command writes, and the environment it reads (tests pass their own). */
  record Io(PrintStream out, PrintStream err, Function<String, String> env) {}

  PrintStream out() {
    return io.out();
  }

  PrintStream err() {
    return io.err();
  }

  Function<String, String> env() {
    return io.env();
  }

  @Override
  public final Integer call() throws IOException {
    return execute();
  }

  /** @return the exit code */
  abstract int execute() throws IOException;

  /** For a command that only groups subcommands: called without one, it is bad usage. */
  static UsageException needsSubcommand(CommandSpec spec) {
    List<String> names = spec.subcommands().keySet().stream().map(n -> "'" + n + "'").toList();
    String choices = names.size() == 1 ? names.get(0)
        : String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.get(names.size() - 1);
    return new UsageException(spec.name() + " needs " + choices);
  }

  /**
   * A picocli factory that hands every command its {@link Io}. Our commands, mixins and option
   * groups are package-private classes: it calls their constructor itself, where picocli's own
   * factory first fails on the access check (an exception per class) and then retries.
   */
  record Factory(Io io) implements CommandLine.IFactory {
    @Override
    public <K> K create(Class<K> cls) throws Exception {
      K k;
      if (cls.getName().startsWith(Factory.class.getPackageName() + ".")) {
        Constructor<K> c = cls.getDeclaredConstructor();
        c.setAccessible(true);
        k = c.newInstance();
      } else {
        k = CommandLine.defaultFactory().create(cls);
      }
      if (k instanceof CliCommand c) {
        c.io = io;
      }
      return k;
    }
  }
}
