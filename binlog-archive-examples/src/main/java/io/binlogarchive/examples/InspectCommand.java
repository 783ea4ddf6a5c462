package io.binlogarchive.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.binlog.BinlogScanner;
import io.binlogarchive.NotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code inspect FILE}: the scanner's facts about a local binlog, as JSON on stdout. */
@Command(name = "inspect", description = "Prints what the scanner reads from a local binlog, as JSON.")
final class InspectCommand extends CliCommand {
  @Parameters(paramLabel = "FILE", description = "a binlog file")
  String file;

  @Override
  int execute() throws IOException {
    Path f = Path.of(file);
    if (!Files.isRegularFile(f)) {
      throw new NotFoundException("no such file: " + f);
    }
    BinlogInfo info = BinlogScanner.scan(f);
    out().println(new ObjectMapper()
        .registerModule(new JavaTimeModule())
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .writerWithDefaultPrettyPrinter()
        .writeValueAsString(info));
    return 0;
  }
}
