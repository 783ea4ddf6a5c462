package io.binlogarchive.examples;

import picocli.CommandLine.Command;

/**
 * The top of the command tree. A new command is one class (see {@link CliCommand}) and one line in
 * {@code subcommands} below.
 */
@Command(
    name = "binlog-archive",
    description = "Archives MySQL/MariaDB binlogs to object storage, verifies them and restores from them.",
    synopsisSubcommandLabel = "<command>",
    subcommands = {
        ArchiveCommand.class,
        StatusCommand.class,
        InspectCommand.class,
        CompareCommand.class,
        RestoreCommands.Restore.class,
        RestoreCommands.Verify.class,
        RestoreCommands.Prune.class,
        RestoreCommands.Backup.class,
        RewrapCommand.class,
        CompletionCommand.class,
    },
    footer = {
        "",
        "URIs: file:///PATH, s3://bucket/prefix, gs://bucket/prefix.",
        "Exit codes: 0 ok, 1 failure, 2 bad usage, 3 status: the archive is stale (--max-age),",
        "4 compare: the two sides differ; 130/143 after SIGINT/SIGTERM.",
        "Errors are one line on stderr. 'binlog-archive <command> [<sub>] --help' shows a command's options."
    })
final class Cli extends CliCommand {
  @Override
  int execute() {
    throw new UsageException("give a command");
  }
}
