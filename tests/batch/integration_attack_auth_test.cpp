// Issue 10, findings 3 and 8, performed for real by ordinary users: a MUNGE credential is bound
// to the connection it was made for (a nonce the other side chose, and both addresses), so a
// credential captured by a fake server or a fake mom is worthless anywhere else; and the host
// of a TCP identity is the peer's address, never what the client wrote in its credential.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "common/munge_auth.h"
#include "common/net.h"
#include "common/wire.h"
#include "attack_peers.h"
#include "harness.h"
#include "reprise.pb.h"

using namespace reprise::test;
using namespace std::chrono_literals;
namespace wire = reprise::wire;

namespace {

const char* kAlice = "reprise_u1";
const char* kMallory = "reprise_u2";

// The attacker: `fn` runs in a forked child as `user` ("root" for the test's own fakes) with
// the cluster's munged; its return value is the child's exit code.
pid_t spawn_as(const std::string& user, const std::string& munge_sock, const std::function<int()>& fn) {
  pid_t pid = fork();
  if (pid == 0) {
    passwd* pw = getpwnam(user.c_str());
    if (!pw || initgroups(user.c_str(), pw->pw_gid) || setgid(pw->pw_gid) || setuid(pw->pw_uid)) _exit(126);
    setenv("MUNGE_SOCKET", munge_sock.c_str(), 1);
    _exit(fn());
  }
  return pid;
}

// The child's exit code; -1 (after killing it) if it runs longer than `seconds`.
int wait_child(pid_t pid, int seconds) {
  int status = 0;
  bool done = wait_for([&] { return waitpid(pid, &status, WNOHANG) == pid; }, std::chrono::seconds(seconds));
  if (!done) {
    ::kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Did `frames` (bytes the server sent) carry a `registered` command, i.e. a server proof?
bool carries_registered(const std::string& bytes) {
  reprise::FrameReader r;
  r.feed(bytes.data(), bytes.size());
  std::string frame, error;
  while (r.next(frame, error) == reprise::FrameReader::kFrame) {
    wire::MomCommand cmd;
    if (cmd.ParseFromString(frame) && cmd.op() == "registered") return true;
  }
  return false;
}

// Copies bytes both ways between a and b until one side closes (or 10 s); returns what b sent.
std::string relay(int a, int b) {
  std::string from_b;
  char buf[65536];
  auto end = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < end) {
    pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    if (::poll(p, 2, 200) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n <= 0) return from_b;
      if (i == 1) from_b.append(buf, size_t(n));
      if (::write(i == 0 ? b : a, buf, size_t(n)) != n) return from_b;
    }
  }
  return from_b;
}

class AttackAuth : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_user(kAlice);
    ensure_user(kMallory);
    ASSERT_TRUE(c.ok()) << c.why();
  }

  std::string munge_sock() { return c.tmp() + "/munge.sock"; }
  std::string log() { return slurp(c.home() + "/server_logs/server.log"); }
  size_t count_in_log(const std::string& what) {
    std::string all = log();
    size_t n = 0;
    for (size_t at = all.find(what); at != std::string::npos; at = all.find(what, at + 1)) ++n;
    return n;
  }
  // A directory `user` can write results into.
  std::string drop_box(const std::string& user) {
    std::string d = c.tmp() + "/drop-" + user;
    ::mkdir(d.c_str(), 0755);
    passwd* pw = getpwnam(user.c_str());
    if (pw && chown(d.c_str(), pw->pw_uid, pw->pw_gid) != 0) ADD_FAILURE() << "chown " << d;
    return d;
  }
  // A second mom for `node`, dialling 127.0.0.1:port; killed by the returned guard.
  struct MomGuard {
    std::string home;
    ~MomGuard() { run({"sh", "-c", "kill -9 $(cat " + home + "/mom_priv/mom.lock) 2>/dev/null"}); }
  };
  std::string start_mom(const std::string& node, int port) {
    std::string home = c.tmp() + "/mom-" + node;
    EXPECT_EQ(run({"mkdir", "-p", home + "/mom_priv"}).code, 0);
    std::ofstream(home + "/mom_priv/config") << "$pbsserver 127.0.0.1:" << port << "\n$mom_host " << node << "\n";
    EXPECT_EQ(run({bin("pbs_mom"), "-d", home}, "", c.env()).code, 0);
    return home;
  }
  // Environment of a remote client: no Unix socket reachable, the server by address.
  std::map<std::string, std::string> remote_env(int port) {
    std::string empty = c.tmp() + "/empty-home";
    ::mkdir(empty.c_str(), 0755);
    return {{"PBS_HOME", empty}, {"PBS_SERVER", "127.0.0.1:" + std::to_string(port)}, {"MUNGE_SOCKET", munge_sock()}};
  }

  Cluster c;
};

// Finding 3: while the mom dials a port an ordinary user listens on, the user relays the
// mom's registration to the real server (and, on another connection, replays what the mom
// sent): the server refuses both, the node does not come up, the user learns no server proof.
TEST_F(AttackAuth, UserListeningOnTheMomsServerPortCannotRegisterAsThatNode) {
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "create node node2 np=1"}).code, 0);
  int port = free_port();
  std::string box = drop_box(kMallory);
  int server_port = c.port();
  pid_t attacker = spawn_as(kMallory, munge_sock(), [&] {
    std::string error;
    int listener = reprise::listen_tcp("127.0.0.1", port, error);
    if (listener < 0) return 10;
    std::ofstream(box + "/listening");
    std::ofstream out(box + "/result");
    // 1. A transparent relay between the mom and the real server.
    pollfd pf{listener, POLLIN, 0};
    if (::poll(&pf, 1, 15000) != 1) return 11;
    int mom = ::accept(listener, nullptr, nullptr);
    int srv = dial(server_port);
    out << "relay registered=" << carries_registered(relay(mom, srv)) << "\n";
    ::close(mom);
    ::close(srv);
    // 2. Capture: the mom answers a challenge the real server issued to us; we send what it
    // said on a fresh connection of our own.
    std::string nonce;
    int s2 = open_session(server_port, nonce);
    wire::Request reg;
    int mom2 = -1;
    if (!accept_peer(listener, nonce, mom2, reg)) return 12;
    ::close(mom2);
    ::close(s2);
    std::string fresh_nonce;
    int s3 = open_session(server_port, fresh_nonce);
    if (!reprise::send_message(s3, reg, error)) return 13;
    std::string got;
    char buf[65536];
    pollfd rf{s3, POLLIN, 0};
    for (ssize_t n; ::poll(&rf, 1, 3000) == 1 && (n = ::read(s3, buf, sizeof buf)) > 0;) got.append(buf, size_t(n));
    out << "replay registered=" << carries_registered(got) << "\n";
    return 0;
  });
  ASSERT_TRUE(wait_for([&] { return ::access((box + "/listening").c_str(), F_OK) == 0; }, 10s));
  MomGuard guard{start_mom("node2", port)};
  EXPECT_EQ(wait_child(attacker, 40), 0);
  std::string result = slurp(box + "/result");
  EXPECT_NE(result.find("relay registered=0"), std::string::npos) << result;
  EXPECT_NE(result.find("replay registered=0"), std::string::npos) << result;
  // The server says why, once per attempt, naming the node the attacker claimed.
  EXPECT_EQ(count_in_log("(op mom_register, node node2, user root): credential bound to another connection"), 2u) << log();
  EXPECT_EQ(log().find("node node2 is up"), std::string::npos) << log();
  EXPECT_NE(c.cmd("", {"pbsnodes", "node2"}).out.find("state = down"), std::string::npos);
  EXPECT_TRUE(wait_for([&] {
    return slurp(guard.home + "/mom_logs/mom.log").find("server refused us: Unauthorized Request (credential bound to another connection") !=
           std::string::npos;
  }, 5s)) << slurp(guard.home + "/mom_logs/mom.log");
  // Service goes on: the real mom's node is free and users are answered.
  EXPECT_NE(c.cmd("", {"pbsnodes", "-a"}).out.find("state = free"), std::string::npos);
  EXPECT_EQ(c.cmd(kAlice, {"qstat"}).code, 0);
}

// A user's credential captured by a fake server (another user listening where the victim's
// client dials) is refused by the real server on the fake's connection and on a fresh one.
TEST_F(AttackAuth, UserCredentialCapturedByAFakeServerIsWorthlessElsewhere) {
  std::string job = c.submit(kAlice, "true\n", {"-h"});
  ASSERT_FALSE(job.empty());
  int port = free_port();
  std::string box = drop_box(kMallory);
  int server_port = c.port();
  pid_t attacker = spawn_as(kMallory, munge_sock(), [&] {
    std::string error;
    int listener = reprise::listen_tcp("127.0.0.1", port, error);
    if (listener < 0) return 10;
    std::ofstream(box + "/listening");
    std::ofstream out(box + "/result");
    for (std::string how : {"relayed", "fresh"}) {
      // The victim gets the real server's nonce, so its credential answers that challenge.
      std::string nonce;
      int srv = open_session(server_port, nonce);
      int victim = -1;
      wire::Request req;
      if (!accept_peer(listener, nonce, victim, req)) return 11;
      if (how == "fresh") {
        ::close(srv);
        srv = open_session(server_port, nonce);
      }
      // Mallory uses Alice's credential to delete Alice's job.
      req.set_op("delete");
      req.clear_ids();
      req.add_ids(job);
      wire::Response resp;
      if (!reprise::send_message(srv, req, error) || !reprise::recv_message(srv, resp, error, 10000)) return 12;
      out << how << " code=" << resp.code() << " " << resp.error() << "\n";
      ::close(srv);
      ::close(victim);
    }
    return 0;
  });
  ASSERT_TRUE(wait_for([&] { return ::access((box + "/listening").c_str(), F_OK) == 0; }, 10s));
  for (int i = 0; i < 2; ++i) run({bin("qstat")}, kAlice, remote_env(port));
  EXPECT_EQ(wait_child(attacker, 40), 0);
  std::string result = slurp(box + "/result");
  EXPECT_NE(result.find("relayed code=15007 Unauthorized Request (credential bound to another connection"), std::string::npos) << result;
  EXPECT_NE(result.find("fresh code=15007 Unauthorized Request (credential bound to another connection"), std::string::npos) << result;
  EXPECT_EQ(count_in_log("(op delete, user " + std::string(kAlice) + "): credential bound to another connection"), 2u) << log();
  EXPECT_EQ(c.attr(job, "job_state"), "H") << "the job survived";
  // Alice's own client, talking to the real server, still works.
  EXPECT_EQ(run({bin("qstat"), job}, kAlice, remote_env(c.port())).code, 0);
}

// The server's proof ("registered") obtained on one connection convinces no mom on another:
// a fake server that got it (here: the test registering node3 itself, as root) is refused.
TEST_F(AttackAuth, ServerProofFromAnotherConnectionConvincesNoMom) {
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "create node node3 np=1"}).code, 0);
  std::string box = drop_box("root");
  int server_port = c.port();
  // A genuine registration of node3, keeping the server's proof without decoding it.
  pid_t fake_mom = spawn_as("root", munge_sock(), [&] {
    std::string nonce, error;
    int fd = open_session(server_port, nonce);
    wire::Request reg;
    reg.set_version(reprise::kProtocolVersion);
    reg.set_op("mom_register");
    reg.set_node("node3");
    reg.set_arg("0123456789abcdef0123456789abcdef");  // our nonce for the server's proof
    // The unfixed server wanted the node name alone.
    reg.set_credential(make_credential(nonce.empty() ? "node3" : bound_payload("mom", nonce, fd, "node3")));
    wire::MomCommand cmd;
    if (!reprise::send_message(fd, reg, error) || !reprise::recv_message(fd, cmd, error, 10000)) return 10;
    if (cmd.op() != "registered" || cmd.arg().empty()) return 11;
    std::ofstream(box + "/proof") << cmd.arg();
    return 0;
  });
  ASSERT_EQ(wait_child(fake_mom, 20), 0);
  std::string proof = slurp(box + "/proof");
  ASSERT_FALSE(proof.empty());

  std::string error;
  int port = free_port();
  int listener = reprise::listen_tcp("127.0.0.1", port, error);
  ASSERT_GE(listener, 0) << error;
  MomGuard guard{start_mom("node3", port)};
  int fd = -1;
  wire::Request reg;
  ASSERT_TRUE(accept_peer(listener, "fedcba9876543210fedcba9876543210", fd, reg));
  EXPECT_EQ(reg.op(), "mom_register");
  std::string marker = c.tmp() + "/fake-server-ran-a-job";
  wire::MomCommand runjob = run_command("1.fake", kAlice, "touch " + marker + "\n");
  wire::MomCommand hello;
  hello.set_op("registered");
  hello.set_arg(proof);
  ASSERT_TRUE(reprise::send_message(fd, runjob, error)) << error;
  ASSERT_TRUE(reprise::send_message(fd, hello, error)) << error;
  char b;
  pollfd rf{fd, POLLIN, 0};
  EXPECT_EQ(::poll(&rf, 1, 10000), 1);
  EXPECT_EQ(::read(fd, &b, 1), 0) << "the mom hangs up on the fake server";
  ::close(fd);
  ::close(listener);
  std::string mom_log;
  EXPECT_TRUE(wait_for([&] {
    mom_log = slurp(guard.home + "/mom_logs/mom.log");
    return mom_log.find("refusing commands from 127.0.0.1:" + std::to_string(port) + ": credential bound to another connection") !=
           std::string::npos;
  }, 5s)) << mom_log;
  std::this_thread::sleep_for(1s);
  EXPECT_NE(::access(marker.c_str(), F_OK), 0) << "the fake server's job ran";
  EXPECT_EQ(mom_log.find("1.fake"), std::string::npos) << mom_log;
}

// Finding 8: the host of a TCP identity is the name of the peer's address. A user who writes
// another host into her credential does not become `user@thathost`.
TEST_F(AttackAuth, HostOfATcpIdentityIsThePeerAddressNotTheCredential) {
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", std::string("set server managers += ") + kAlice + "@thathost"}).code, 0);
  std::string box = drop_box(kAlice);
  int server_port = c.port();
  pid_t attacker = spawn_as(kAlice, munge_sock(), [&] {
    std::ofstream out(box + "/result");
    // The old claim (the payload is the host) and a bound payload with a host of its own.
    for (std::string how : {"plain", "bound"}) {
      std::string nonce, error;
      int fd = open_session(server_port, nonce);
      wire::Request req;
      req.set_version(reprise::kProtocolVersion);
      req.set_op("manage");
      req.set_command("set");
      req.set_objtype("server");
      auto* op = req.add_ops();
      op->set_name("scheduling");
      op->set_value("False");
      req.set_credential(make_credential(how == "plain" ? "thathost" : bound_payload("user", nonce, fd) + " host=thathost"));
      wire::Response resp;
      if (!reprise::send_message(fd, req, error) || !reprise::recv_message(fd, resp, error, 10000)) return 10;
      out << how << " code=" << resp.code() << " " << resp.error() << "\n";
      ::close(fd);
    }
    return 0;
  });
  EXPECT_EQ(wait_child(attacker, 30), 0);
  std::string result = slurp(box + "/result");
  EXPECT_NE(result.find("plain code=15007"), std::string::npos) << result;
  EXPECT_NE(result.find("bound code=15007"), std::string::npos) << result;
  EXPECT_NE(c.cmd("", {"qmgr", "-c", "list server"}).out.find("scheduling = True"), std::string::npos);
  // Alice's own client over TCP from 127.0.0.1 is not reprise_u1@thathost either.
  Result mgr = run({bin("qmgr"), "-c", "set server scheduling = False"}, kAlice, remote_env(c.port()));
  EXPECT_NE(mgr.code, 0);
  EXPECT_NE(mgr.err.find("Unauthorized Request"), std::string::npos) << mgr.err;
  // An entry naming the host 127.0.0.1 resolves to (as the server resolves it) does hold.
  sockaddr_in lo{};
  lo.sin_family = AF_INET;
  lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  char name[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&lo), sizeof lo, name, sizeof name, nullptr, 0, NI_NAMEREQD) != 0)
    std::snprintf(name, sizeof name, "127.0.0.1");
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", std::string("set server managers += ") + kAlice + "@" + name}).code, 0);
  mgr = run({bin("qmgr"), "-c", "set server scheduling = False"}, kAlice, remote_env(c.port()));
  EXPECT_EQ(mgr.code, 0) << mgr.err;
  EXPECT_NE(c.cmd("", {"qmgr", "-c", "list server"}).out.find("scheduling = False"), std::string::npos);
}

}  // namespace
