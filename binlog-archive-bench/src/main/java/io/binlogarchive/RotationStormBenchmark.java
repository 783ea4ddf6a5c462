package io.binlogarchive;

import io.binlogarchive.testing.MariaDbServer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Per-file overhead of the archiver on tiny binlogs from a real MariaDB server. From the project
 * root:
 *
 * <pre>
 * java -cp "$(bench/classpath.sh)" io.binlogarchive.RotationStormBenchmark 1000 3
 * </pre>
 *
 * Goal: at most 20 ms and 3 store calls per file beyond the upload itself.
 */
public final class RotationStormBenchmark {
  private RotationStormBenchmark() {}

  public static void main(String[] args) throws Exception {
    int files = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    for (int round = 1; round <= rounds; round++) {
      Path work = Files.createTempDirectory("rotation-storm");
      try (MariaDbServer db = MariaDbServer.start(work.resolve("db"))) {
        db.exec("CREATE DATABASE app", "CREATE TABLE app.t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(64))");
        RotationStorm.Result r = RotationStorm.run(db, work, files);
        System.out.printf("round %d: %d files archived in %d ms = %.2f ms/file; %.2f store calls/file beyond the"
                + " upload %s; (making them with FLUSH took %d ms)%n", round, r.files(), r.archiveTime().toMillis(),
            r.millisPerFile(), r.storeCallsPerFileBeyondUpload(), r.sink().snapshot(), r.flushTime().toMillis());
      }
    }
  }
}
