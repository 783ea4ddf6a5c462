package io.binlogarchive.examples;

import io.binlogarchive.restore.ArchiveProblem;
import io.binlogarchive.restore.ArchiveReader;
import io.binlogarchive.crypto.KeyProvider;
import io.binlogarchive.restore.RewrapResult;
import java.io.IOException;
import java.util.function.Function;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code rewrap}: moves the artifacts encrypted under one key to another ({@link
 * ArchiveMaintenance#rewrap}). Run it once per old key. A dry run unless {@code --apply}; progress on
 * stderr, the list on stdout. Exit 0 when every selected file is (or can be) under the new key, 1
 * when some could not be moved (run it again), 2 on bad usage.
 */
@Command(name = "rewrap", description = {"Moves the artifacts under an old key to a new key.",
    "Every artifact under the old key's id; run it once per old key. A dry run unless --apply.",
    "Exit 1 when some file could not be moved: run it again."})
final class RewrapCommand extends CliCommand {
  @Mixin ReadOptions read;

  @ArgGroup(exclusive = true, validate = false, multiplicity = "1", heading = "New key (one of):%n")
  NewKey newKey;

  @Option(names = "--apply", description = "rewrap (without it, only list)")
  boolean apply;

  static final class NewKey implements CliOptions.OneOf {
    @ArgGroup(exclusive = false, validate = false)
    File file;

    @ArgGroup(exclusive = false, validate = false)
    Gcp gcp;

    static final class File {
      @Option(names = "--to-key-file", required = true, paramLabel = "NEW", description = "the new key file")
      String path;

      @Option(names = "--to-key-id", paramLabel = "ID", description = "the new key's id (default: the file name less its"
          + " extension)")
      String id;
    }

    static final class Gcp {
      @Option(names = "--to-gcp-kms-key", required = true, paramLabel = "NAME", description = "the new Cloud KMS CryptoKey")
      String name;

      @Option(names = "--to-gcp-kms-endpoint", paramLabel = "URL", description = "its endpoint")
      String endpoint;
    }
  }

  @Override
  int execute() throws IOException {
    CliOptions.Key old = CliOptions.Key.of(read.key);
    if (old.awsKmsKeyId != null) {
      throw new UsageException("rewrap takes the old key as --key-file OLD or --gcp-kms-key NAME, not --kms-key-id");
    }
    boolean insecure = read.store.allowInsecureEndpoint;
    KeyProvider from = Keys.fromOptions(old, "--key-file", insecure, env());
    if (from == null) {
      throw new UsageException("rewrap needs the old key: --key-file OLD or --gcp-kms-key NAME");
    }
    KeyProvider to = newKey(newKey == null ? new NewKey() : newKey, insecure, env());
    String oldId = from.primaryKeyId();
    if (oldId.equals(to.primaryKeyId())) {
      throw new UsageException("the new key has the same key id as the old one ('" + oldId + "'); give it"
          + " another with --to-key-id");
    }
    Targets.Target target = Targets.open(read.from, read.store.settings());
    try {
      String serverId = ReadOptions.serverId(read.serverId, target);
      TerminalProgress bar = Main.isTerminal(err()) ? new TerminalProgress("rewrap", -1, err()) : null;
      ArchiveReader reader = ArchiveReader.builder().sink(target.sink()).prefix(target.prefix()).serverId(serverId)
          .keyProvider(from).parallelism(CliOptions.range("--parallelism", read.parallelism, 2, 1, 64))
          .listener(new ArchiveReader.Listener() {
            @Override
            public void fileRewrapped(RewrapResult.Move m) {
              if (bar != null) {
                bar.step(m.artifactBytes());
                return;
              }
              err().printf(Main.FORMAT, "rewrapped %s  %s -> %s  %s  %s%n", m.file(), m.fromKeyId(), m.toKeyId(),
                  name(m.toArtifact()), Main.bytes(m.artifactBytes()) + (m.resumed() ? "  (resumed)" : ""));
            }
          })
          .build();
      String newId = to.primaryKeyId();
      RewrapResult r;
      try {
        r = reader.maintenance().rewrap(to, s -> oldId.equals(s.artifact().keyId()) || newId.equals(s.artifact().keyId()), apply);
      } finally {
        if (bar != null) {
          bar.close();
        }
      }
      out().printf(Main.FORMAT, "%s %s from key id '%s' to '%s': %d artifact(s)%s; %d already under '%s', %d under other"
              + " keys, %d unencrypted%n",
          r.applied() ? "rewrapped" : "dry run (add --apply to rewrap)", target.uri(), oldId, r.targetKeyId(),
          r.moved().size(), r.applied() ? "" : " would move", r.alreadyOnTarget(), r.targetKeyId(), r.notSelected(),
          r.notEncrypted());
      for (RewrapResult.Move m : r.moved()) {
        out().println((r.applied() ? "  moved      " : "  would move ") + m.fromArtifact() + " -> " + name(m.toArtifact())
            + (m.resumed() ? " (resumed)" : ""));
      }
      for (String k : r.leftoversRemoved()) {
        out().println((r.applied() ? "  deleted    " : "  would delete ") + k
            + " (left by an interrupted rewrap; its sidecar names the newer artifact)");
      }
      for (RewrapResult.Failure f : r.failures()) {
        err().println("FAILED  " + f.file() + ": " + f.message());
      }
      for (ArchiveProblem p : r.problems()) {
        err().println("PROBLEM " + p.kind() + " " + (p.file() == null ? "" : p.file() + ": ") + p.message());
      }
      if (!r.ok()) {
        err().printf(Main.FORMAT, "binlog-archive: %d file(s) not moved, %d damaged; every file is still restorable"
            + " under its sidecar's key; fix what is named and run rewrap again%n", r.failures().size(),
            r.problems().size());
        return 1;
      }
      return 0;
    } finally {
      target.sink().close();
    }
  }

  private static KeyProvider newKey(NewKey n, boolean allowInsecure, Function<String, String> env) {
    boolean file = n.file != null && n.file.path != null;
    boolean kms = n.gcp != null && n.gcp.name != null;
    if (file == kms) {
      throw new UsageException("rewrap needs the new key: --to-key-file NEW or --to-gcp-kms-key NAME (one of them)");
    }
    if (n.file != null && n.file.id != null && !file) {
      throw new UsageException("--to-key-id goes with --to-key-file");
    }
    if (n.gcp != null && n.gcp.endpoint != null && !kms) {
      throw new UsageException("--to-gcp-kms-endpoint goes with --to-gcp-kms-key");
    }
    return file ? Keys.fromFile(n.file.path, n.file.id) : Keys.gcpKms(n.gcp.name, n.gcp.endpoint, allowInsecure, env);
  }

  private static String name(String key) {
    return key.substring(key.lastIndexOf('/') + 1);
  }
}
