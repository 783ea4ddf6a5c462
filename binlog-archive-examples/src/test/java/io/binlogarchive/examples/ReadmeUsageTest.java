package io.binlogarchive.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The README's usage block and the runner's generated help cannot drift apart: every command has
 * its lines in the block, every option of a command is named in them (or in the block's shared
 * lines: KEY, every command, ...), and every option the block names exists.
 */
@DisplayName("The README's usage block")
class ReadmeUsageTest {
  private static final Path README = Path.of("..", "README.md");
  private static final Pattern OPTION = Pattern.compile("(?<![\\w-])--[a-z][a-z0-9-]*");

  /** Every runnable command's path, e.g. [restore, plan], and its picocli model. */
  static Map<List<String>, CommandLine> leaves() {
    Map<List<String>, CommandLine> out = new LinkedHashMap<>();
    collect(Main.commandLine(new CliCommand.Io(System.out, System.err, System::getenv)), new ArrayList<>(), out);
    return out;
  }

  private static void collect(CommandLine c, List<String> path, Map<List<String>, CommandLine> out) {
    if (c.getSubcommands().isEmpty()) {
      out.put(List.copyOf(path), c);
      return;
    }
    c.getSubcommands().forEach((name, sub) -> {
      List<String> p = new ArrayList<>(path);
      p.add(name);
      collect(sub, p, out);
    });
  }

  /** The fenced block under "## The example runner". */
  static List<String> block() throws IOException {
    List<String> lines = Files.readAllLines(README, StandardCharsets.UTF_8);
    int section = lines.indexOf("## The example runner");
    assertThat(section).as("README section '## The example runner'").isNotNegative();
    int open = lines.subList(section, lines.size()).indexOf("```") + section;
    int close = lines.subList(open + 1, lines.size()).indexOf("```") + open + 1;
    return lines.subList(open + 1, close);
  }

  /** The lines for one command: its first line ("binlog-archive restore plan|fetch ...") and continuations. */
  static String section(List<String> block, List<String> path) {
    StringBuilder s = new StringBuilder();
    boolean in = false;
    for (String line : block) {
      if (line.startsWith("binlog-archive ")) {
        String[] words = line.split("\\s+"); // "binlog-archive restore plan|fetch --from ..."
        in = words.length > path.size() && words[1].equals(path.get(0))
            && (path.size() == 1 || Arrays.asList(words[2].split("\\|")).contains(path.get(1)));
      } else if (!line.startsWith("                ")) {
        in = false; // a shared line
      }
      if (in) {
        s.append(line).append('\n');
      }
    }
    return s.toString();
  }

  static String shared(List<String> block) {
    StringBuilder s = new StringBuilder();
    for (String line : block) {
      if (line.startsWith("  ") && !line.startsWith("                ")) {
        s.append(line).append('\n');
      }
    }
    return s.toString();
  }

  static Set<String> optionsIn(String text) {
    Set<String> found = new TreeSet<>();
    Matcher m = OPTION.matcher(text);
    while (m.find()) {
      found.add(m.group());
    }
    return found;
  }

  @Test
  @DisplayName("names every command and every option of each, and no option that does not exist")
  void matchesTheGeneratedHelp() throws IOException {
    List<String> block = block();
    String shared = shared(block);
    Set<String> known = new TreeSet<>();
    for (Map.Entry<List<String>, CommandLine> e : leaves().entrySet()) {
      String section = section(block, e.getKey());
      assertThat(section).as("README usage lines for 'binlog-archive %s'", String.join(" ", e.getKey())).isNotEmpty();
      Set<String> named = optionsIn(section + shared);
      for (OptionSpec o : e.getValue().getCommandSpec().options()) {
        known.addAll(Arrays.asList(o.names()));
        if (o.usageHelp()) {
          continue;
        }
        assertThat(Arrays.stream(o.names()).anyMatch(named::contains))
            .as("README usage of 'binlog-archive %s' names %s", String.join(" ", e.getKey()), o.longestName())
            .isTrue();
      }
    }
    assertThat(known).as("options the README's usage block names").containsAll(optionsIn(String.join("\n", block)));
  }

  @Test
  @DisplayName("every command and subcommand answers --help with its own usage, exit 0")
  void everyCommandHasHelp() {
    for (List<String> path : leaves().keySet()) {
      List<String> argv = new ArrayList<>(path);
      argv.add("--help");
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int code = new Main(new PrintStream(out, true, StandardCharsets.UTF_8),
          new PrintStream(err, true, StandardCharsets.UTF_8)).run(argv.toArray(String[]::new));
      assertThat(code).as(String.join(" ", argv)).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8)).startsWith("Usage: binlog-archive " + String.join(" ", path));
    }
  }

  @Test
  @DisplayName("the completion script covers every command")
  void completion() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code = new Main(new PrintStream(out, true, StandardCharsets.UTF_8), System.err).run(new String[] {"completion"});
    assertThat(code).isZero();
    String script = out.toString(StandardCharsets.UTF_8);
    assertThat(script).contains("complete -F");
    for (List<String> path : leaves().keySet()) {
      assertThat(script).contains(path.get(path.size() - 1));
    }
    assertThat(script).contains("--until-position", "--allow-unencrypted", "--jdbc-password-file", "--encrypt-key-file");
  }
}
