package io.binlogarchive.replication.serve;

import io.binlogarchive.Sidecar;
import io.binlogarchive.binlog.BinlogInfo;
import io.binlogarchive.restore.RestorePlan;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * The replication source a {@link BinlogServer} presents to its replicas, made from the restore
 * plan's first file: the server id, the version in the handshake, the global variables the
 * replicas' setup queries read, and the answers to MariaDB's {@code BINLOG_GTID_POS}. Immutable.
 */
final class ServedSource {
  private final RestorePlan plan;
  private final long serverId;
  private final String handshakeVersion;
  private final Map<String, String> globals;

  /**
   * @param archiveRoot names the archive, for a stable {@code server_uuid}
   * @param port the port replicas connect to
   * @param serverId the server id to present, or -1 for the one in the plan's first file
   */
  ServedSource(RestorePlan plan, String archiveRoot, int port, long serverId) {
    this.plan = plan;
    Map<String, String> g = new LinkedHashMap<>();
    Sidecar first = plan.files().get(0);
    BinlogInfo info = first.binlog();
    this.serverId = serverId >= 0 ? serverId : sourceServerId(info);
    boolean maria = !"mysql".equals(plan.flavor());
    String version = info != null && info.serverVersion() != null ? info.serverVersion()
        : maria ? "10.11.0-MariaDB-log" : "8.0.0-log";
    // MariaDB servers prefix "5.5.5-" so that MySQL clients, which reject a major version 10,
    // accept them; MariaDB's clients (and replicas) strip it again.
    this.handshakeVersion = maria && !version.startsWith("5.5.5-") ? "5.5.5-" + version : version;
    String checksum = info != null && "crc32".equalsIgnoreCase(info.checksumAlgorithm()) ? "CRC32" : "NONE";
    g.put("server_id", Long.toString(this.serverId));
    g.put("server_uuid", UUID.nameUUIDFromBytes(("binlog-archive serve " + archiveRoot)
        .getBytes(StandardCharsets.UTF_8)).toString());
    g.put("version", version);
    g.put("version_comment", "binlog-archive serve");
    g.put("binlog_checksum", checksum);
    g.put("master_verify_checksum", "OFF");
    g.put("log_bin", "ON");
    g.put("binlog_format", "ROW");
    g.put("gtid_mode", !maria && info != null && info.gtids() != null && !info.gtids().isEmpty() ? "ON" : "OFF");
    g.put("gtid_domain_id", Long.toString(domainId(info)));
    g.put("gtid_strict_mode", "ON");
    g.put("hostname", "binlog-archive-serve");
    g.put("port", Integer.toString(port));
    g.put("max_allowed_packet", Integer.toString(1 << 30));
    g.put("lower_case_table_names", "0");
    g.put("time_zone", "SYSTEM");
    g.put("system_time_zone", "UTC");
    g.put("character_set_server", "utf8mb4");
    g.put("collation_server", "utf8mb4_general_ci");
    g.put("read_only", "ON");
    this.globals = Collections.unmodifiableMap(g);
  }

  long serverId() {
    return serverId;
  }

  String handshakeVersion() {
    return handshakeVersion;
  }

  Map<String, String> globals() {
    return globals;
  }

  /**
   * MariaDB's {@code BINLOG_GTID_POS(file, pos)}, which a replica asks at connect: the GTID state at
   * the plan's start, or at the start of a file; null elsewhere (the replica then leaves its GTID
   * position empty until GTID events arrive).
   */
  String binlogGtidPos(String file, long position) {
    if (file.equals(plan.startFile()) && position == plan.startPosition() && plan.startGtids() != null) {
      return plan.startGtids();
    }
    if (position == 4) {
      for (Sidecar s : plan.files()) {
        if (s.file().equals(file) && s.binlog() != null) {
          return s.binlog().previousGtids();
        }
      }
    }
    return null;
  }

  private static long sourceServerId(BinlogInfo info) {
    if (info == null || info.serverIds() == null || info.serverIds().isEmpty()) {
      return 1;
    }
    return info.serverIds().get(info.serverIds().size() - 1);
  }

  private static long domainId(BinlogInfo info) {
    String g = info == null ? null : info.gtids();
    if (g == null || g.isEmpty() || !Character.isDigit(g.charAt(0)) || g.indexOf('-') < 0) {
      return 0;
    }
    try {
      return Long.parseLong(g.substring(0, g.indexOf('-')));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
