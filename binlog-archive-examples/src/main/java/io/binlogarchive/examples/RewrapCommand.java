package io.binlogarchive.examples;

import io.binlogarchive.ArchiveCatalog;
import io.binlogarchive.ArchiveProblem;
import io.binlogarchive.ArchiveReader;
import io.binlogarchive.KeyProvider;
import io.binlogarchive.RewrapResult;
import java.io.IOException;
import java.io.PrintStream;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * {@code rewrap}: moves the artifacts encrypted under one key to another ({@link
 * ArchiveReader#rewrap}). Run it once per old key. A dry run unless {@code --apply}; progress on
 * stderr, the list on stdout. Exit 0 when every selected file is (or can be) under the new key, 1
 * when some could not be moved (run it again), 2 on bad usage.
 */
final class RewrapCommand {
  static final String USAGE = String.join("\n",
      "  rewrap  --from URI (--key-file OLD [--key-id ID] | --gcp-kms-key NAME [--gcp-kms-endpoint URL])",
      "          (--to-key-file NEW [--to-key-id ID] | --to-gcp-kms-key NAME [--to-gcp-kms-endpoint URL])",
      "          [--apply] [--server-id ID] [--parallelism N] [--endpoint URL] [--region R]",
      "          moves every artifact under the old key's id to the new key; dry run unless --apply");

  private static final Set<String> VALUED = Set.of("--from", "--server-id", "--endpoint", "--region", "--key-file",
      "--key-id", "--gcp-kms-key", "--gcp-kms-endpoint", "--to-key-file", "--to-key-id", "--to-gcp-kms-key",
      "--to-gcp-kms-endpoint", "--parallelism");

  private RewrapCommand() {}

  static int run(String[] argv, PrintStream out, PrintStream err, Function<String, String> env) throws IOException {
    Args a = new Args(argv, 1, new HashSet<>(VALUED), Set.of("--apply"));
    a.required("--from");
    KeyProvider from = Keys.fromArgs(a, "--key-file", env);
    if (from == null) {
      throw new Args.UsageException("rewrap needs the old key: --key-file OLD or --gcp-kms-key NAME");
    }
    KeyProvider to = newKey(a, env);
    String oldId = from.primaryKeyId();
    if (oldId.equals(to.primaryKeyId())) {
      throw new Args.UsageException("the new key has the same key id as the old one ('" + oldId + "'); give it"
          + " another with --to-key-id");
    }
    boolean apply = a.has("--apply");
    Targets.Target target = Targets.open(a.get("--from"), a);
    try {
      String serverId = a.get("--server-id");
      if (serverId == null) {
        List<String> ids = ArchiveCatalog.serverIds(target.sink(), target.prefix());
        if (ids.size() > 1) {
          throw new Args.UsageException("the archive holds several servers " + ids + "; choose one with --server-id");
        }
        serverId = ids.isEmpty() ? "default" : ids.get(0);
      }
      ArchiveReader reader = ArchiveReader.builder().sink(target.sink()).prefix(target.prefix()).serverId(serverId)
          .keyProvider(from).parallelism(a.intValue("--parallelism", 2, 1, 64))
          .listener(new ArchiveReader.Listener() {
            @Override
            public void fileRewrapped(RewrapResult.Move m) {
              err.printf(Locale.ROOT, "rewrapped %s  %s -> %s  %s  %s%n", m.file(), m.fromKeyId(), m.toKeyId(),
                  name(m.toArtifact()), Main.bytes(m.artifactBytes()) + (m.resumed() ? "  (resumed)" : ""));
            }
          })
          .build();
      String newId = to.primaryKeyId();
      RewrapResult r = reader.rewrap(to, s -> oldId.equals(s.artifact().keyId()) || newId.equals(s.artifact().keyId()),
          apply);
      out.printf(Locale.ROOT, "%s %s from key id '%s' to '%s': %d artifact(s)%s; %d already under '%s', %d under other"
              + " keys, %d unencrypted%n",
          r.applied() ? "rewrapped" : "dry run (add --apply to rewrap)", target.uri(), oldId, r.targetKeyId(),
          r.moved().size(), r.applied() ? "" : " would move", r.alreadyOnTarget(), r.targetKeyId(), r.notSelected(),
          r.notEncrypted());
      for (RewrapResult.Move m : r.moved()) {
        out.println((r.applied() ? "  moved      " : "  would move ") + m.fromArtifact() + " -> " + name(m.toArtifact())
            + (m.resumed() ? " (resumed)" : ""));
      }
      for (String k : r.leftoversRemoved()) {
        out.println((r.applied() ? "  deleted    " : "  would delete ") + k
            + " (left by an interrupted rewrap; its sidecar names the newer artifact)");
      }
      for (RewrapResult.Failure f : r.failures()) {
        err.println("FAILED  " + f.file() + ": " + f.message());
      }
      for (ArchiveProblem p : r.problems()) {
        err.println("PROBLEM " + p.kind() + " " + (p.file() == null ? "" : p.file() + ": ") + p.message());
      }
      if (!r.ok()) {
        err.printf(Locale.ROOT, "binlog-archive: %d file(s) not moved, %d damaged; every file is still restorable"
            + " under its sidecar's key; fix what is named and run rewrap again%n", r.failures().size(),
            r.problems().size());
        return 1;
      }
      return 0;
    } finally {
      target.sink().close();
    }
  }

  private static KeyProvider newKey(Args a, Function<String, String> env) {
    boolean file = a.has("--to-key-file");
    boolean kms = a.has("--to-gcp-kms-key");
    if (file == kms) {
      throw new Args.UsageException("rewrap needs the new key: --to-key-file NEW or --to-gcp-kms-key NAME (one of them)");
    }
    if (a.has("--to-key-id") && !file) {
      throw new Args.UsageException("--to-key-id goes with --to-key-file");
    }
    if (a.has("--to-gcp-kms-endpoint") && !kms) {
      throw new Args.UsageException("--to-gcp-kms-endpoint goes with --to-gcp-kms-key");
    }
    return file ? Keys.fromFile(a.get("--to-key-file"), a.get("--to-key-id"))
        : Keys.gcpKms(a.get("--to-gcp-kms-key"), a.get("--to-gcp-kms-endpoint"), a.allowInsecureEndpoint(), env);
  }

  private static String name(String key) {
    return key.substring(key.lastIndexOf('/') + 1);
  }
}
