// Attacks on the server's connections (issue 10, findings 4 and 5), by ordinary users against
// real daemons: a client that pipelines requests and never reads the answers, a flood of
// connections from one user, TCP connections that never authenticate, and running the server
// out of descriptors. In each, another user's qstat must answer within seconds.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>
#include <thread>
#include <vector>

#include "common/net.h"
#include "common/pbs_home.h"
#include "common/wire.h"
#include "harness.h"
#include "protocol_submit.h"
#include "reprise.pb.h"

using namespace reprise;
using namespace reprise::test;

namespace {

const char* kAttacker = "reprise_u1";
const char* kOther = "reprise_u2";

// In a forked child: become `user` with the cluster's environment. False if that failed.
bool become(Cluster& c, const std::string& user) {
  passwd* pw = getpwnam(user.c_str());
  if (!pw || initgroups(user.c_str(), pw->pw_gid) || setgid(pw->pw_gid) || setuid(pw->pw_uid)) return false;
  for (auto& [k, v] : c.env()) setenv(k.c_str(), v.c_str(), 1);
  return true;
}

long rss_kb(pid_t pid) {
  std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

// utime + stime of `pid`, in seconds.
double cpu_seconds(pid_t pid) {
  std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  std::istringstream in(stat.substr(stat.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; in >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::atol(field.c_str());
    if (i == 15) {
      stime = std::atol(field.c_str());
      break;
    }
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

struct Timed {
  Result r;
  double seconds = 0;
};

// `qstat` as `user`, killed after 10 s (a server that does not answer must not hang the test).
Timed timed_qstat(Cluster& c, const std::string& user, const std::map<std::string, std::string>& extra = {}) {
  auto env = c.env();
  for (auto& [k, v] : extra) env[k] = v;
  auto t0 = std::chrono::steady_clock::now();
  Timed t;
  t.r = run({"timeout", "10", bin("qstat")}, user, env);
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return t;
}

std::string status_job_frame() {
  wire::Request req;
  req.set_version(kProtocolVersion);
  req.set_op("status_job");
  return encode_frame(req);
}

// Submits `count` held jobs as `user` over the wire (as qsub would send them).
bool submit_held(Cluster& c, const std::string& user, int count) {
  pid_t pid = fork();
  if (pid == 0) {
    if (!become(c, user)) _exit(1);
    int failed = submit_over_connections(count, 2, "#!/bin/sh\ntrue\n", [](int i, auto& a) {
      a["Job_Name"] = "fill" + std::to_string(i);
      a["Hold_Types"] = "u";
      a["Output_Path"] = "/dev/null";
      a["Join_Path"] = "oe";
      a["Variable_List"] = "PBS_O_WORKDIR=/tmp,FILLER=" + std::string(400, 'x');
    });
    _exit(failed ? 2 : 0);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

void stop_child(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

// Children that open `count` connections to the server's Unix socket as `user` (root if
// empty), 10,000 per child (the descriptor limit here is 20,000 and cannot be raised), within
// 30 s, then each report how many it opened and hold them until killed.
struct Flood {
  std::vector<pid_t> pids;
  int report = -1;
};

Flood flood_unix(Cluster& c, const std::string& user, int count) {
  Flood f;
  int p[2];
  if (pipe(p) != 0) return f;
  for (int start = 0; start < count; start += 10000) {
    int mine = std::min(10000, count - start);
    pid_t pid = fork();
    if (pid == 0) {
      close(p[0]);
      rlimit rl{};
      getrlimit(RLIMIT_NOFILE, &rl);
      rl.rlim_cur = std::min<rlim_t>(rl.rlim_max, rlim_t(mine + 100));
      if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(1);
      if (!user.empty() && !become(c, user)) _exit(1);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::string path = c.home() + "/pbs_server.sock";
      std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      int opened = 0;
      while (opened < mine && std::chrono::steady_clock::now() < deadline) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (fd < 0) break;
        if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
          close(fd);  // backlog full (EAGAIN): the server is not accepting; try again shortly
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          continue;
        }
        ++opened;
      }
      ssize_t ignored = write(p[1], &opened, sizeof opened);
      (void)ignored;
      for (;;) pause();
    }
    if (pid > 0) f.pids.push_back(pid);
  }
  close(p[1]);
  f.report = p[0];
  return f;
}

// Waits up to `seconds` for every flood child's count; their sum, or -1.
int flood_count(Flood& f, int seconds) {
  int total = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (size_t i = 0; i < f.pids.size(); ++i) {
    int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    pollfd pfd{f.report, POLLIN, 0};
    int opened = 0;
    if (left <= 0 || poll(&pfd, 1, left) != 1 || read(f.report, &opened, sizeof opened) != sizeof opened) return -1;
    total += opened;
  }
  return total;
}

void stop_flood(Flood& f) {
  for (pid_t pid : f.pids) stop_child(pid);
  if (f.report >= 0) close(f.report);
  f.report = -1;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Finding 4: pipelined requests whose answers are never read. The server must stop reading
// such a client once its unsent output is over the per-connection limit (4 MiB), so its RSS
// stays within that plus one reply and the read-ahead; 64 MiB above the level before the
// attack leaves room for allocator slack while the unfixed server passes it within a second.
TEST(AttackConn, ClientThatNeverReadsCannotGrowTheServer) {
  ensure_user(kAttacker);
  ensure_user(kOther);
  Cluster c;
  ASSERT_TRUE(c.ok()) << c.why();
  ASSERT_TRUE(submit_held(c, kAttacker, 200));
  pid_t server = c.server_pid();
  ASSERT_GT(server, 0);
  long before = rss_kb(server);
  ASSERT_GT(before, 0);
  const long bound = before + 64 * 1024;

  // The attacker: 20,000 full status requests (each answer lists 200 jobs, ~200 KB), sent in
  // batches, never reading.
  pid_t attacker = fork();
  if (attacker == 0) {
    if (!become(c, kAttacker)) _exit(1);
    std::string error;
    int fd = connect_unix(c.home() + "/pbs_server.sock", error);
    if (fd < 0) _exit(2);
    std::string batch;
    for (int i = 0; i < 200; ++i) batch += status_job_frame();
    for (int b = 0; b < 100; ++b) {
      if (write(fd, batch.data(), batch.size()) != ssize_t(batch.size())) _exit(3);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (;;) pause();
  }
  ASSERT_GT(attacker, 0);

  // For 6 s: the server's RSS (sampled every 50 ms; the attacker is stopped as soon as it
  // passes the bound, so the unfixed server cannot take the machine) and the other user's
  // qstat, run again and again.
  long peak = 0;
  int qstats = 0;
  std::thread sampler([&] {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(6);
    while (std::chrono::steady_clock::now() < end) {
      long r = rss_kb(server);
      peak = std::max(peak, r);
      if (r > bound) {
        kill(attacker, SIGKILL);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(6);
  while (std::chrono::steady_clock::now() < end && qstats < 10) {
    Timed q = timed_qstat(c, kOther);
    EXPECT_EQ(q.r.code, 0) << q.r.err;
    EXPECT_LT(q.seconds, 3.0) << "qstat of another user during the attack";
    ++qstats;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  sampler.join();
  EXPECT_LE(peak, bound) << "server RSS " << peak << " kB, before the attack " << before << " kB";
  EXPECT_GE(qstats, 3);
  stop_child(attacker);

  // Backpressure loses nothing: 300 pipelined requests, read only once all are sent, are all
  // answered (the server pauses this client and resumes it as its answers are read).
  pid_t reader = fork();
  if (reader == 0) {
    if (!become(c, kAttacker)) _exit(1);
    std::string error;
    int fd = connect_unix(c.home() + "/pbs_server.sock", error);
    if (fd < 0) _exit(2);
    std::string all;
    for (int i = 0; i < 300; ++i) all += status_job_frame();
    // Sent from a thread: the server stops reading until we read, so a blocking write alone
    // would never finish.
    std::thread writer([&] {
      if (write(fd, all.data(), all.size()) != ssize_t(all.size())) _exit(3);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (int i = 0; i < 300; ++i) {
      wire::Response resp;
      if (!recv_message(fd, resp, error, 10000) || resp.code() != 0 || resp.objects_size() != 200) _exit(4);
    }
    writer.join();
    _exit(0);
  }
  int st = 0;
  waitpid(reader, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "status " << st;
  Timed q = timed_qstat(c, kAttacker);
  EXPECT_EQ(q.r.code, 0) << q.r.err;
  EXPECT_EQ(count_of(q.r.out, "\n"), 202u);  // header, rule, 200 jobs
}

// Finding 5: one user opens 20,000 connections (the server's descriptor limit here). The
// server holds at most the per-user cap of them and refuses the rest with one line each, so
// others are served, the loop does not spin, and the refusals are logged once per burst.
TEST(AttackConn, ConnectionFloodOfOneUserLeavesOthersServed) {
  ensure_user(kAttacker);
  ensure_user(kOther);
  Cluster c;
  ASSERT_TRUE(c.ok()) << c.why();
  pid_t server = c.server_pid();
  Flood attacker = flood_unix(c, kAttacker, 20000);
  ASSERT_EQ(attacker.pids.size(), 2u);
  // Others are served while the flood goes on.
  Timed during = timed_qstat(c, kOther);
  EXPECT_EQ(during.r.code, 0) << during.r.err;
  EXPECT_LT(during.seconds, 3.0);
  int opened = flood_count(attacker, 40);
  EXPECT_GT(opened, 1000) << "the attacker could not connect";

  // The flood holds its connections: the server must be idle, not spinning on a listener it
  // cannot accept from.
  double cpu0 = cpu_seconds(server);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    Timed q = timed_qstat(c, kOther);
    EXPECT_EQ(q.r.code, 0) << q.r.err;
    EXPECT_LT(q.seconds, 3.0) << "qstat of another user during the flood";
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = cpu_seconds(server) - cpu0;
  EXPECT_LT(cpu, 0.2 * wall) << "server CPU " << cpu << " s in " << wall << " s of flood";
  // The attacker's own next command is refused with the reason, in one line.
  Timed mine = timed_qstat(c, kAttacker);
  EXPECT_NE(mine.r.code, 0);
  EXPECT_EQ(mine.r.err, "qstat: Resource temporarily unavailable (user reprise_u1 has 128 connections; the limit is 128)\n");
  std::string log = slurp(c.home() + "/server_logs/server.log");
  EXPECT_GE(count_of(log, "refused a connection of reprise_u1"), 1u);
  EXPECT_LE(count_of(log, "refused a connection of reprise_u1"), 5u) << "one line per burst, not per connection";

  // Once the attacker is gone, all is normal again, for the attacker too.
  stop_flood(attacker);
  EXPECT_TRUE(wait_for([&] { return timed_qstat(c, kAttacker).r.code == 0; }, std::chrono::seconds(10)));
  Timed after = timed_qstat(c, kOther);
  EXPECT_EQ(after.r.code, 0) << after.r.err;
}

// TCP connections that never send anything: at most 32 per address are kept, and those are
// closed 10 s after they were accepted. The attacker uses its own loopback address
// (127.0.0.3), so other TCP clients (from 127.0.0.1) are served meanwhile.
TEST(AttackConn, SilentTcpConnectionsAreCappedAndTimedOut) {
  ensure_user(kOther);
  Cluster c;
  ASSERT_TRUE(c.ok()) << c.why();
  std::vector<int> fds;
  for (int i = 0; i < 200; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in src{}, dst{};
    src.sin_family = dst.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.0.3", &src.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
    dst.sin_port = htons(uint16_t(c.port()));
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src), 0) << strerror(errno);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst), 0) << strerror(errno);
    fds.push_back(fd);
  }
  // Which of them has the server closed (EOF or reset after its one-line reason)?
  std::string reason;
  auto closed = [&] {
    int n = 0;
    for (int fd : fds) {
      pollfd pfd{fd, POLLIN, 0};
      if (poll(&pfd, 1, 0) != 1) continue;
      ++n;
      wire::Response resp;
      std::string error;
      if (reason.empty() && recv_message(fd, resp, error, 100)) reason = resp.error();
    }
    return n;
  };
  EXPECT_TRUE(wait_for([&] { return closed() >= 168; }, std::chrono::seconds(3))) << closed() << " closed";
  EXPECT_EQ(closed(), 168) << "32 silent connections per address are kept for now";
  EXPECT_EQ(reason, "Resource temporarily unavailable (address 127.0.0.3 has 32 connections that have not authenticated; the limit is 32)");
  Timed tcp = timed_qstat(c, kOther, {{"PBS_SERVER", "127.0.0.1:" + std::to_string(c.port())}});
  EXPECT_EQ(tcp.r.code, 0) << tcp.r.err;
  EXPECT_LT(tcp.seconds, 3.0);
  // The rest get 10 s to send their first request.
  EXPECT_TRUE(wait_for([&] { return closed() == 200; }, std::chrono::seconds(15))) << closed() << " closed";
  for (int fd : fds) close(fd);
  std::string log = slurp(c.home() + "/server_logs/server.log");
  EXPECT_NE(log.find("closed 32 connections that sent no request within 10 s"), std::string::npos) << log;
}

// A client connection that moves nothing either way for tcp_timeout seconds is closed; the
// mom's connection is not (node health covers it).
TEST(AttackConn, IdleClientConnectionsAreClosedAfterTcpTimeout) {
  ensure_user(kOther);
  Cluster c;
  ASSERT_TRUE(c.ok()) << c.why();
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set server tcp_timeout = 2"}).code, 0);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  pid_t idle = fork();
  if (idle == 0) {
    if (!become(c, kOther)) _exit(1);
    std::string error;
    int fd = connect_unix(c.home() + "/pbs_server.sock", error);
    if (fd < 0) _exit(2);
    // Within the limit, a request is answered; then silence until the server hangs up.
    std::string frame = status_job_frame();
    wire::Response resp;
    if (write(fd, frame.data(), frame.size()) != ssize_t(frame.size()) || !recv_message(fd, resp, error, 5000)) _exit(3);
    auto t0 = std::chrono::steady_clock::now();
    char byte;
    pollfd pfd{fd, POLLIN, 0};
    if (poll(&pfd, 1, 10000) != 1 || read(fd, &byte, 1) != 0) _exit(4);
    double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    _exit(waited >= 1.0 && waited < 5.0 ? 0 : 5);
  }
  int st = 0;
  waitpid(idle, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "status " << st;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Result nodes = c.cmd("", {"pbsnodes", "-a"});
  EXPECT_NE(nodes.out.find("state = free"), std::string::npos) << nodes.out;
  EXPECT_NE(slurp(c.home() + "/server_logs/server.log").find("client connections idle for tcp_timeout (2 s)"), std::string::npos);
}

// Out of descriptors: root (exempt from the per-user cap) opens more connections than the
// server's limit, lowered to 256 with prlimit. accept then fails with EMFILE while the
// listener stays readable; the server must drain it rather than spin, and recover.
TEST(AttackConn, OutOfDescriptorsDoesNotSpin) {
  ensure_user(kOther);
  Cluster c;
  ASSERT_TRUE(c.ok()) << c.why();
  pid_t server = c.server_pid();
  rlimit low{256, 256};
  ASSERT_EQ(prlimit(server, RLIMIT_NOFILE, &low, nullptr), 0) << strerror(errno);
  Flood flood = flood_unix(c, "", 2000);
  ASSERT_EQ(flood.pids.size(), 1u);
  int opened = flood_count(flood, 40);
  EXPECT_GT(opened, 256);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double cpu0 = cpu_seconds(server);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  double cpu = cpu_seconds(server) - cpu0;
  EXPECT_LT(cpu, 0.6) << "server CPU in 3 s with its descriptors exhausted";
  std::string log = slurp(c.home() + "/server_logs/server.log");
  EXPECT_NE(log.find("refused a connection: out of file descriptors"), std::string::npos);
  EXPECT_LE(count_of(log, "out of file descriptors"), 3u) << "one line per burst, not per connection";
  stop_flood(flood);
  EXPECT_TRUE(wait_for([&] { return timed_qstat(c, kOther).r.code == 0; }, std::chrono::seconds(10)));
}

}  // namespace

namespace {

// Connections that each start a big frame and never finish it: the server may hold at most
// its per-user input budget (kUserInLimit, 64 MiB) of such partial frames for one user, not
// one 16 MiB frame per connection (128 connections: 2 GiB).
TEST(AttackConn, PartialFramesOfOneUserAreBounded) {
  ensure_user(kAttacker);
  ensure_user(kOther);
  Cluster c;
  ASSERT_TRUE(c.ok()) << c.why();
  pid_t server = c.server_pid();
  long before = rss_kb(server);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  pid_t attacker = fork();
  if (attacker == 0) {
    ::close(p[0]);
    if (!become(c, kAttacker)) _exit(1);
    // 100 connections x 2 MiB of a frame that announces 16 MiB: 200 MiB if nothing bounds it.
    std::string head(4, '\0');
    uint32_t n = uint32_t(kMaxFrameBytes);
    head[0] = char(n >> 24), head[1] = char(n >> 16), head[2] = char(n >> 8), head[3] = char(n);
    std::string chunk(1 << 16, 'x');
    std::vector<int> fds;
    std::string error;
    for (int i = 0; i < 100; ++i) {
      int fd = connect_unix(server_socket_path(c.home()), error);
      if (fd < 0) break;
      set_nonblocking(fd);
      fds.push_back(fd);
      ssize_t w = ::write(fd, head.data(), head.size());
      (void)w;
    }
    // Push until each connection's 2 MiB is in (the server stops reading: the kernel buffers
    // fill and writes would block), for at most 15 s.
    std::vector<size_t> sent(fds.size(), 0);
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    bool more = true;
    while (more && std::chrono::steady_clock::now() < end) {
      more = false;
      for (size_t i = 0; i < fds.size(); ++i) {
        if (sent[i] >= (2u << 20)) continue;
        ssize_t w = ::write(fds[i], chunk.data(), chunk.size());
        if (w > 0) sent[i] += size_t(w);
        more = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    char ok = 'k';
    ssize_t w = ::write(p[1], &ok, 1);
    (void)w;
    ::pause();  // hold the connections until killed
    _exit(0);
  }
  ::close(p[1]);
  char ok;
  pollfd pf{p[0], POLLIN, 0};
  ASSERT_EQ(::poll(&pf, 1, 30000), 1) << "the attacker did not finish sending";
  ASSERT_EQ(::read(p[0], &ok, 1), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  long during = rss_kb(server);
  EXPECT_LT(during - before, 120 * 1024) << "server RSS " << before << " kB -> " << during << " kB";
  // Others are served meanwhile.
  Timed q = timed_qstat(c, kOther);
  EXPECT_EQ(q.r.code, 0) << q.r.err;
  EXPECT_LT(q.seconds, 3.0);
  stop_child(attacker);
  ::close(p[0]);
  // Once the attacker is gone, its budget is free again: the same user is served.
  EXPECT_TRUE(wait_for([&] { return timed_qstat(c, kAttacker).r.code == 0; }, std::chrono::seconds(10)));
}

}  // namespace
