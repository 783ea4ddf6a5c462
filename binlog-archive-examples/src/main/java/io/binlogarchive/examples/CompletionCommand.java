package io.binlogarchive.examples;

import picocli.AutoComplete;
import picocli.CommandLine.Command;

/** {@code completion}: prints a bash (and zsh, with bashcompinit) completion script for every command and option. */
@Command(name = "completion",
    description = {"Prints a shell completion script for bash and zsh.",
        "Use: source <(binlog-archive completion)   or save it in /etc/bash_completion.d/binlog-archive"})
final class CompletionCommand extends CliCommand {
  @Override
  int execute() {
    // the whole tree: Main builds only the command a command line names
    out().print(AutoComplete.bash(spec.root().name(), Main.commandLine(io)));
    out().flush();
    return 0;
  }
}
