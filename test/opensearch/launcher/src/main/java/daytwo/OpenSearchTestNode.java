package daytwo;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.plugins.Plugin;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.painless.PainlessPlugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * A single-node OpenSearch cluster on 127.0.0.1 for daytwo's tests.
 *
 * Prints one line {@code OPENSEARCH_URL=http://127.0.0.1:<port>} on stdout once the node
 * answers, and stops (closing the node and deleting its data) when stdin closes or on
 * SIGTERM, so a test runner that dies takes the node with it.
 *
 * Arguments: an optional HTTP port (default: a free one).
 */
public final class OpenSearchTestNode {
  public static void main(String[] args) throws Exception {
    int httpPort = args.length > 0 ? Integer.parseInt(args[0]) : freePort();
    int transportPort = freePort();
    Path home = Files.createTempDirectory("daytwo-opensearch-");
    Settings settings = Settings.builder()
        .put("cluster.name", "daytwo-test")
        .put("node.name", "daytwo-test-0")
        .put("path.home", home.toString())
        .put("path.data", home.resolve("data").toString())
        .put("path.logs", home.resolve("logs").toString())
        .put("discovery.type", "single-node")
        .put("network.host", "127.0.0.1")
        .put("http.port", httpPort)
        .put("transport.port", transportPort)
        .put("http.type", "netty4")
        .put("transport.type", "netty4")
        // A test machine's disk may be fuller than the production watermarks allow.
        .put("cluster.routing.allocation.disk.threshold_enabled", false)
        .put("node.max_local_storage_nodes", 1)
        .build();
    LogConfigurator.configureWithoutConfig(settings);
    Node node = new ClasspathNode(settings, List.of(Netty4Plugin.class, CommonAnalysisPlugin.class, PainlessPlugin.class));
    Thread stopper = new Thread(() -> stop(node, home));
    Runtime.getRuntime().addShutdownHook(stopper);
    node.start();
    System.out.println("OPENSEARCH_URL=http://127.0.0.1:" + httpPort);
    System.out.flush();
    InputStream in = System.in;
    while (in.read() != -1) {
      // Wait for the parent to close our stdin.
    }
    System.exit(0);
  }

  /** A node whose modules come from the classpath instead of a distribution's modules/ folder. */
  private static final class ClasspathNode extends Node {
    ClasspathNode(Settings settings, Collection<Class<? extends Plugin>> plugins) {
      super(InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> "daytwo-test-0"), plugins, true);
    }
  }

  private static void stop(Node node, Path home) {
    try {
      node.close();
    } catch (Exception e) {
      System.err.println("closing the node: " + e);
    }
    try {
      deleteTree(home);
    } catch (IOException e) {
      System.err.println("deleting " + home + ": " + e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) return;
    Files.walkFileTree(root, new SimpleFileVisitor<Path>() {
      @Override
      public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
        Files.delete(f);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        Files.delete(d);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
