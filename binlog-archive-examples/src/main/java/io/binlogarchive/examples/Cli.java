package io.binlogarchive.examples;

import java.util.List;
import picocli.CommandLine.Command;

/**
 * The top of the command tree. A new command is one class (see {@link CliCommand}) and one line in
 * {@link #COMMANDS}.
 */
@Command(
    name = "binlog-archive",
    description = "Archives MySQL/MariaDB binlogs to object storage, verifies them and restores from them.",
    synopsisSubcommandLabel = "<command>",
    footer = {
        "",
        "URIs: file:///PATH, s3://bucket/prefix, gs://bucket/prefix.",
        "Exit codes: 0 ok, 1 failure, 2 bad usage, 3 status: the archive is stale (--max-age),",
        "4 compare: the two sides differ; 130/143 after SIGINT/SIGTERM.",
        "Errors are one line on stderr. 'binlog-archive <command> [<sub>] --help' shows a command's options."
    })
final class Cli extends CliCommand {
  /**
   * Every command, in the order the help lists them. {@link Main} builds only the one a command
   * line names (picocli reads each command's annotations when it is added, which costs startup
   * time), and all of them for the help, completion and errors.
   */
  static final List<Class<? extends CliCommand>> COMMANDS = List.of(
      ArchiveCommand.class,
      StatusCommand.class,
      InspectCommand.class,
      CompareCommand.class,
      RestoreCommands.Restore.class,
      RestoreCommands.Verify.class,
      RestoreCommands.Prune.class,
      RestoreCommands.Backup.class,
      RewrapCommand.class,
      CompletionCommand.class);

  @Override
  int execute() {
    throw new UsageException("give a command");
  }
}
