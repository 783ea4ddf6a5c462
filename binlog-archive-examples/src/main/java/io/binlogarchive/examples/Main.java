package io.binlogarchive.examples;

import com.sun.management.OperatingSystemMXBean;
import io.binlogarchive.ArchiveException;
import io.binlogarchive.ArchiveListener;
import io.binlogarchive.Archiver;
import io.binlogarchive.store.Cursor;
import io.binlogarchive.FileResult;
import io.binlogarchive.RunSummary;
import io.binlogarchive.Sidecar;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The {@code binlog-archive} command-line runner, on picocli: {@code binlog-archive <command> [<sub>]
 * --help} shows each command's options ({@link Cli} lists the commands; {@link CliCommand} says how
 * to add one).
 *
 * <p>Exit codes: 0 success, 1 failure, 2 bad usage, 3 {@code status --max-age}: the archive is
 * stale, 4 {@code compare}: the two sides differ. Errors are one line on stderr.
 */
public final class Main {
  /**
   * The locale of the runner's formatted output: {@link Locale#US}, which writes our numbers as
   * {@link Locale#ROOT} does (ASCII digits, a '.' before decimals, no grouping) and which {@code
   * java.util.Formatter} serves without loading the JDK's locale data, a cost of every one-shot
   * command's start-up otherwise (BENCHMARKS.md, issue 16).
   */
  static final Locale FORMAT = Locale.US;

  private final PrintStream out;
  private final PrintStream err;
  private final Function<String, String> env;

  Main(PrintStream out, PrintStream err) {
    this(out, err, System::getenv);
  }

  /** @param env the environment ({@code GOOGLE_OAUTH_ACCESS_TOKEN}, {@code BINLOG_ARCHIVE_JDBC_PASSWORD}); tests pass their own */
  Main(PrintStream out, PrintStream err, Function<String, String> env) {
    this.out = out;
    this.err = err;
    this.env = env;
  }

  /**
   * Runs a command and exits with its code.
   *
   * @param argv the command line
   */
  public static void main(String[] argv) {
    for (int i = 0; i < argv.length; i++) {
      if (argv[i].equals("--verbose")) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "info");
      }
      if (argv[i].equals("--log-format=json")
          || argv[i].equals("--log-format") && i + 1 < argv.length && argv[i + 1].equals("json")) {
        System.setProperty("slf4j.provider", JsonLinesLoggerProvider.class.getName());
        System.setProperty("slf4j.internal.verbosity", "WARN");
      }
    }
    startupDefaults();
    boolean stats = Arrays.asList(argv).contains("--stats");
    int code = new Main(System.out, System.err).run(argv);
    if (stats) {
      printStats(System.err);
    }
    System.exit(code);
  }

  /**
   * System properties that keep a one-shot command's start-up cheap (BENCHMARKS.md, issue 16), each
   * unless already set: slf4j is told its provider instead of looking for one (its service lookup
   * reads every jar of the class path), picocli does not probe for Groovy (the same search, for a
   * class that is not there), and neither prints how it started.
   */
  static void startupDefaults() {
    setDefault("slf4j.provider", "org.slf4j.simple.SimpleServiceProvider");
    setDefault("slf4j.internal.verbosity", "WARN");
    setDefault("picocli.disable.closures", "true");
  }

  private static void setDefault(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }

  int run(String[] argv) {
    CommandLine cli = commandLine(new CliCommand.Io(out, err, env), commandName(argv));
    if (argv.length == 0) {
      err.print(cli.getUsageMessage());
      return 2;
    }
    try {
      checkLogFormat(argv);
    } catch (UsageException e) {
      err.println("binlog-archive: " + e.getMessage());
      return 2;
    }
    return cli.execute(argv);
  }

  /** The whole command tree with the runner's error handling: one line on stderr, exit 2 or 1. */
  static CommandLine commandLine(CliCommand.Io io) {
    return commandLine(io, null);
  }

  /**
   * The command tree with only the command {@code name}, or every command when {@code name} is
   * null or names none (the help, an unknown command).
   */
  static CommandLine commandLine(CliCommand.Io io, String name) {
    CommandLine.IFactory factory = new CliCommand.Factory(io);
    CommandLine cli = new CommandLine(Cli.class, factory);
    List<Class<? extends CliCommand>> commands = Cli.COMMANDS.stream()
        .filter(c -> c.getAnnotation(Command.class).name().equals(name)).toList();
    for (Class<? extends CliCommand> c : commands.isEmpty() ? Cli.COMMANDS : commands) {
      cli.addSubcommand(new CommandLine(c, factory));
    }
    cli.setOverwrittenOptionsAllowed(true); // as before: a repeated option's last value wins
    Handlers handlers = new Handlers(io);
    cli.setHelpFactory(handlers);
    cli.setUsageHelpWidth(110);
    cli.setOut(new PrintWriter(io.out(), true));
    cli.setErr(new PrintWriter(io.err(), true));
    cli.setParameterExceptionHandler(handlers);
    cli.setExecutionExceptionHandler(handlers);
    return cli;
  }

  /**
   * The runner's help and error handling for picocli: a usage error is one line on stderr and exit
   * 2, a failure one line and exit 1. A class rather than lambdas: the launcher's class-data-sharing
   * archive cannot hold picocli's interfaces (Java 5 class files) once a lambda has linked them.
   */
  record Handlers(CliCommand.Io io)
      implements CommandLine.IHelpFactory, CommandLine.IParameterExceptionHandler, CommandLine.IExecutionExceptionHandler {
    @Override
    public CommandLine.Help create(CommandSpec spec, CommandLine.Help.ColorScheme scheme) {
      return new GroupedHelp(spec, scheme);
    }

    @Override
    public int handleParseException(CommandLine.ParameterException e, String[] args) {
      io.err().println("binlog-archive: " + usageMessage(e) + seeHelp(e.getCommandLine()));
      return 2;
    }

    @Override
    public int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parsed)
        throws Exception {
      if (e instanceof UsageException) {
        io.err().println("binlog-archive: " + oneLine(e) + seeHelp(cmd));
        return 2;
      }
      if (e instanceof ArchiveException || e instanceof IOException || e instanceof IllegalArgumentException
          || e instanceof IllegalStateException) {
        io.err().println("binlog-archive: " + oneLine(e));
        return 1;
      }
      throw e;
    }
  }

  /**
   * picocli's help, with every option group in the synopsis ({@code [--backup=NAME | --start=FILE:POS]}):
   * picocli shows only the groups it validates itself, and ours are checked by the commands, whose
   * messages say more.
   */
  static final class GroupedHelp extends CommandLine.Help {
    GroupedHelp(CommandSpec spec, CommandLine.Help.ColorScheme scheme) {
      super(spec, scheme);
    }

    @Override
    protected CommandLine.Help.Ansi.Text createDetailedSynopsisGroupsText(Set<ArgSpec> groupArgs) {
      StringBuilder text = new StringBuilder();
      for (ArgGroupSpec group : commandSpec().argGroups()) {
        text.append(' ').append(synopsis(group, groupArgs));
      }
      return ansi().new Text(text.toString());
    }

    /** {@code [a | b]} for an exclusive group, {@code a [b]} inside a group of options that go together. */
    static String synopsis(ArgGroupSpec group, Set<ArgSpec> done) {
      boolean oneOf = group.typeInfo() != null && CliOptions.OneOf.class.isAssignableFrom(group.typeInfo().getType());
      List<String> parts = new ArrayList<>();
      for (ArgSpec a : group.args()) {
        done.add(a);
        if (a instanceof OptionSpec o) {
          String unit = o.names()[0] + (o.typeInfo().isBoolean() ? "" : "=" + o.paramLabel());
          parts.add(oneOf || o.required() ? unit : "[" + unit + "]");
        }
      }
      for (ArgGroupSpec sub : group.subgroups()) {
        String unit = synopsis(sub, done);
        parts.add(oneOf ? unit.substring(1, unit.length() - 1) : unit); // one choice of several: no brackets
      }
      String joined = String.join(oneOf ? " | " : " ", parts);
      return group.multiplicity().min() == 0 ? "[" + joined + "]" : "(" + joined + ")";
    }
  }

  private static String seeHelp(CommandLine cmd) {
    return " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')";
  }

  /** picocli's message, in the runner's words where they differ (a missing option, an unknown command). */
  static String usageMessage(CommandLine.ParameterException e) {
    if (e instanceof CommandLine.MissingParameterException m && m.getMissing().stream().allMatch(ArgSpec::isOption)) {
      return m.getMissing().stream().map(a -> ((OptionSpec) a).longestName()).collect(Collectors.joining(", "))
          + (m.getMissing().size() == 1 ? " is required" : " are required");
    }
    if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getCommandLine().getSubcommands().isEmpty()
        && !u.getUnmatched().isEmpty() && !u.getUnmatched().get(0).startsWith("-")) {
      return "unknown command '" + u.getUnmatched().get(0) + "'";
    }
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return m.startsWith("Error: ") ? m.substring("Error: ".length()) : m;
  }

  /** The first word of the command line that is neither an option nor {@code --log-format}'s value. */
  static String commandName(String[] argv) {
    for (int i = 0; i < argv.length; i++) {
      if (argv[i].equals("--log-format")) {
        i++;
      } else if (!argv[i].startsWith("-")) {
        return argv[i];
      }
    }
    return null;
  }

  /** {@code --log-format text|json} is read in {@link #main}, before the first logger exists; checked here. */
  static void checkLogFormat(String[] argv) {
    for (int i = 0; i < argv.length; i++) {
      if (argv[i].equals("--log-format") || argv[i].startsWith("--log-format=")) {
        String v = argv[i].startsWith("--log-format=") ? argv[i].substring("--log-format=".length())
            : i + 1 < argv.length ? argv[++i] : null;
        if (!Set.of("text", "json").contains(String.valueOf(v))) {
          throw new UsageException("--log-format must be text or json");
        }
      }
    }
  }

  /** Peak heap (sum of the heap pools' peaks: an upper bound) and process CPU time. */
  static void printStats(PrintStream err) {
    long peak = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
        peak += p.getPeakUsage().getUsed();
      }
    }
    long max = Runtime.getRuntime().maxMemory();
    double cpu = -1;
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof OperatingSystemMXBean os) {
      cpu = os.getProcessCpuTime() / 1e9;
    }
    err.printf(FORMAT, "stats: peak_heap_mib=%.1f max_heap_mib=%.1f cpu_seconds=%.2f%n", peak / 1048576.0,
        max / 1048576.0, cpu);
  }

  static String oneLine(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return m.replace('\n', ' ');
  }

  /**
   * Prints a run's summary line, and its error as one more line.
   *
   * @return whether the run succeeded
   */
  static boolean report(RunSummary s, PrintStream err) {
    err.printf(FORMAT, "binlog-archive: %d archived, %d already archived, %s read in %d ms; cursor %s%n",
        s.archivedCount(),
        s.results().stream().filter(r -> r.status() == FileResult.Status.ALREADY_ARCHIVED).count(),
        bytes(s.bytesRead()), s.duration().toMillis(),
        s.cursor().map(c -> c.timeline() + "/" + c.lastSyncedFile()).orElse("(none)"));
    if (!s.succeeded()) {
      String why = oneLine(s.failure());
      String file = s.failedFile() == null || why.startsWith(s.failedFile().name() + ":") ? ""
          : s.failedFile().name() + ": ";
      err.println("binlog-archive: " + file + why);
    }
    return s.succeeded();
  }

  /**
   * {@code --watch SECONDS}: the archiver runs on its own thread ({@link Archiver#start()}), a run
   * every SECONDS and sooner when the binlog directory changes. A failed run is reported and the
   * next one follows (the metrics and health line show it). The main thread waits for {@code
   * --max-runs} runs, or forever; SIGTERM or SIGINT runs the shutdown hook, which closes the
   * archiver gracefully: no new file starts, files in flight finish, the cursor stays consistent.
   * An {@link Error} that ends the agent (see {@link Archiver#start()}) ends the wait: exit code 1.
   */
  static final class Watch implements ArchiveListener {
    private final int maxRuns;
    private final PrintStream err;
    private final CountDownLatch done = new CountDownLatch(1);
    private final AtomicInteger runs = new AtomicInteger();
    private volatile boolean lastSucceeded = true;
    private volatile Cursor lastCursor;

    Watch(int maxRuns, PrintStream err) {
      this.maxRuns = maxRuns;
      this.err = err;
    }

    @Override
    public void cursorCommitted(Cursor cursor) {
      lastCursor = cursor;
    }

    @Override
    public void runFinished(RunSummary s) {
      int n = runs.incrementAndGet();
      if (maxRuns > 0 && n > maxRuns) {
        return; // a run that began as the stop was requested: it starts no file
      }
      s.cursor().ifPresent(c -> lastCursor = c);
      lastSucceeded = report(s, err);
      if (maxRuns > 0 && n == maxRuns) {
        done.countDown();
      }
    }

    /** @return 0, or 1 when the last run failed or an Error ended the agent */
    int run(Archiver archiver) throws IOException {
      Thread hook = new Thread(() -> {
        err.println("binlog-archive: stopping: files in flight finish, no new file starts");
        try {
          archiver.close();
          err.println("binlog-archive: stopped; cursor "
              + (lastCursor == null ? "(none)" : lastCursor.timeline() + "/" + lastCursor.lastSyncedFile()));
        } catch (IOException | RuntimeException e) {
          err.println("binlog-archive: stopping: " + oneLine(e));
        }
      }, "binlog-archive-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      Throwable agentError = null;
      try {
        CompletableFuture<Void> agent = archiver.start();
        agent.whenComplete((v, e) -> {
          if (e != null) {
            done.countDown(); // an agent ended by an Error runs no more; a closed one leaves the exit to the hook
          }
        });
        done.await();
        if (agent.isDone()) {
          try {
            agent.get();
          } catch (ExecutionException e) {
            agentError = e.getCause();
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
          // the JVM is shutting down: the hook closes the archiver
        }
      }
      archiver.close();
      if (agentError != null) {
        err.println("binlog-archive: the agent stopped: " + agentError);
        return 1;
      }
      return lastSucceeded ? 0 : 1;
    }
  }

  /** One progress line per file on stderr; a subclass draws a bar on a terminal instead. */
  static class Progress implements ArchiveListener {
    final PrintStream err;

    Progress(PrintStream err) {
      this.err = err;
    }

    /** A bar when {@code err} is the terminal's stderr, else one line per file. */
    static Progress forStderr(PrintStream err) {
      return isTerminal(err) ? new TerminalProgress.Archive(err) : new Progress(err);
    }

    @Override
    public void fileArchived(FileResult r) {
      Sidecar s = r.sidecar();
      double secs = Math.max(r.duration().toNanos(), 1) / 1e9;
      err.printf(FORMAT, "archived %s  %s -> %s (%.2fx)  %.1f MB/s%n", r.file().name(), bytes(s.size()),
          bytes(s.artifact().size()), s.size() / (double) Math.max(1, s.artifact().size()),
          r.bytesRead() / 1e6 / secs);
    }

    @Override
    public void fileSkipped(FileResult r) {
      err.printf(FORMAT, "%s %s: %s%n", r.status().name().toLowerCase(Locale.ROOT).replace('_', ' '),
          r.file().name(), r.detail());
    }

    @Override
    public void retryScheduled(String what, int attempt, Duration delay, Throwable error) {
      err.printf(FORMAT, "retrying %s in %d ms (attempt %d failed: %s)%n", what, delay.toMillis(), attempt,
          oneLine(error));
    }

    @Override
    public void gapDetected(long after, long next) {
      err.printf(FORMAT, "WARNING: binlogs after sequence %d up to %d were purged before they were archived%n",
          after, next);
    }
  }

  /**
   * Whether to draw a progress bar on {@code err}: it is this process's stderr and the process has a
   * terminal ({@link System#console()}); {@code BINLOG_ARCHIVE_PROGRESS=plain} asks for lines anyway.
   */
  static boolean isTerminal(PrintStream err) {
    return err == System.err && System.console() != null && !"plain".equals(System.getenv("BINLOG_ARCHIVE_PROGRESS"));
  }

  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    if (n < 1024 * 1024) {
      return String.format(FORMAT, "%.1f KiB", n / 1024.0);
    }
    if (n < 1024L * 1024 * 1024) {
      return String.format(FORMAT, "%.1f MiB", n / 1048576.0);
    }
    return String.format(FORMAT, "%.2f GiB", n / 1073741824.0);
  }
}
