// Java under checkpoint/restart (issue 11 item 10): the JVM's many threads
// (JIT compilers, GC, signal dispatcher), its safepoint polling and signal
// handlers, a worker pool passing work through a queue, and a TCP echo
// between two of its threads on loopback. One deterministic line per round;
// a broken restore prints MISMATCH, or a round times out after 20 s.
// usage: java -cp DIR JavaThreads [rounds=30] [interval_ms=100]
import java.io.*;
import java.net.*;
import java.nio.file.*;
import java.util.concurrent.*;

public class JavaThreads {
    public static void main(String[] args) throws Exception {
        String log = System.getenv("CRTEST_START_LOG");
        if (log != null)
            Files.writeString(Paths.get(log), "JavaThreads started\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        int interval = args.length > 1 ? Integer.parseInt(args[1]) : 100;
        ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Thread echo = new Thread(() -> {
            try (Socket s = server.accept()) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                for (int b; (b = in.read()) >= 0;) out.write(b);
            } catch (IOException e) {
                System.out.println("echo thread: " + e);
            }
        });
        echo.start();
        Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        client.setSoTimeout(20000);
        BufferedReader fromEcho = new BufferedReader(new InputStreamReader(client.getInputStream()));
        Writer toEcho = new OutputStreamWriter(client.getOutputStream());
        ExecutorService pool = Executors.newFixedThreadPool(4);
        long checksum = 0;
        for (int i = 0; i < rounds; i++) {
            Thread.sleep(interval);
            final int round = i;
            Future<Long> work = pool.submit(() -> {
                long x = round;
                for (int k = 0; k < 200000; k++) x = x * 6364136223846793005L + 1442695040888963407L;
                return x;
            });
            long value = work.get(20, TimeUnit.SECONDS);
            checksum ^= value;
            String msg = "round " + i;
            toEcho.write(msg + "\n");
            toEcho.flush();
            String back;
            try {
                back = fromEcho.readLine();
            } catch (SocketTimeoutException e) {
                back = null;
            }
            System.out.println(msg + ": " + (msg.equals(back) ? "pool and tcp ok" : "MISMATCH (" + back + ")"));
        }
        client.close();
        echo.join();
        pool.shutdown();
        System.out.println("checksum " + Long.toHexString(checksum));
    }
}
