package io.binlogarchive.binlog;

import io.binlogarchive.ArchiveException;
import io.binlogarchive.InvalidBinlogException;
import io.binlogarchive.NotFoundException;
import io.binlogarchive.internal.binlog.BinlogNames;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Lists binlogs from the server's {@code <basename>.index} file. */
final class IndexFileBinlogSource implements BinlogSource {
  private final Path indexFile;
  private final Path dir;

  IndexFileBinlogSource(Path indexFile) {
    this.indexFile = indexFile.toAbsolutePath().normalize();
    this.dir = this.indexFile.getParent();
  }

  static Path findIndex(Path binlogDir) {
    List<Path> found = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(binlogDir, "*.index")) {
      ds.forEach(found::add);
    } catch (NoSuchFileException e) {
      throw new NotFoundException("binlog directory " + binlogDir + " does not exist");
    } catch (IOException e) {
      throw new ArchiveException("cannot list binlog directory " + binlogDir + ": " + e.getMessage(), e);
    }
    if (found.size() != 1) {
      throw new InvalidBinlogException(
          "binlog directory " + binlogDir + " holds " + found.size()
              + " *.index files; name the index file to use");
    }
    return found.get(0);
  }

  @Override
  public List<BinlogFile> closedFiles() throws IOException {
    List<String> lines;
    try {
      lines = Files.readAllLines(indexFile, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new NotFoundException("binlog index file " + indexFile + " does not exist");
    }
    List<BinlogFile> files = new ArrayList<>();
    int lineNo = 0;
    for (String line : lines) {
      lineNo++;
      String entry = line.strip();
      if (entry.isEmpty()) {
        continue;
      }
      files.add(resolve(entry, lineNo));
    }
    Collections.sort(files);
    for (int i = 1; i < files.size(); i++) {
      if (files.get(i).sequence() == files.get(i - 1).sequence()) {
        throw new InvalidBinlogException(
            indexFile + ": two entries with sequence " + files.get(i).sequence() + " ("
                + files.get(i - 1).name() + ", " + files.get(i).name() + ")");
      }
    }
    // The newest file is the one the server is writing: never hand it out.
    return files.isEmpty() ? List.of() : List.copyOf(files.subList(0, files.size() - 1));
  }

  private BinlogFile resolve(String entry, int lineNo) {
    Path p;
    try {
      p = dir.resolve(entry).normalize();
    } catch (RuntimeException e) {
      throw new InvalidBinlogException(indexFile + " line " + lineNo + ": '" + entry + "' is not a valid path");
    }
    if (!dir.equals(p.getParent())) {
      throw new InvalidBinlogException(
          indexFile + " line " + lineNo + ": entry '" + entry
              + "' points outside the binlog directory " + dir + "; refusing to read it");
    }
    String name = p.getFileName().toString();
    long seq = BinlogNames.sequence(name);
    if (seq < 0) {
      throw new InvalidBinlogException(
          indexFile + " line " + lineNo + ": '" + name + "' is not a binlog name of the form <basename>.<digits>");
    }
    return new BinlogFile(name, p, seq);
  }

  @Override
  public java.util.Optional<Path> localDirectory() {
    return java.util.Optional.of(dir);
  }

  @Override
  public String describe() {
    return "index " + indexFile;
  }
}
