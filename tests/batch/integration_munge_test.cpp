// MUNGE on TCP (issue 6, point 2; issue 10): moms and remote clients must present a valid
// credential, bound to the connection, in their first request after the challenge. A missing,
// replayed, expired, garbage or unbound credential or one from a host with another key is
// refused, the peer gets one error, and the server logs one line saying who (peer ip:port,
// claimed node/user) and why.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "common/auth_binding.h"
#include "common/munge_auth.h"
#include "common/net.h"
#include "attack_peers.h"
#include "common/wire.h"
#include "harness.h"
#include "reprise.pb.h"

using namespace reprise::test;
using namespace std::chrono_literals;
namespace wire = reprise::wire;

namespace {

const char* kUser = "reprise_u1";
constexpr int kErrPermission = 15007;

std::string chomp(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A second munged with a key of its own: "a host with another key".
struct OtherMunge {
  std::string dir, sock;
  pid_t pid = 0;
  bool ok = false;
  explicit OtherMunge(const std::string& parent) : dir(parent + "/other-munge"), sock(dir + "/munge.sock") {
    ::mkdir(dir.c_str(), 0755);
    std::string why;
    pid = start_munged(dir, why);
    ok = pid > 0;
  }
  ~OtherMunge() {
    if (pid > 0) ::kill(pid, SIGTERM);
  }
};

class Munge : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_user(kUser);
    ASSERT_TRUE(c.ok()) << c.why();
  }

  std::string log() { return slurp(c.home() + "/server_logs/server.log"); }
  // The server log line containing `what`, waiting a little for it to be written.
  std::string log_line_with(const std::string& what) {
    std::string line;
    wait_for([&] {
      std::istringstream in(log());
      while (std::getline(in, line))
        if (line.find(what) != std::string::npos) return true;
      line.clear();
      return false;
    }, 5s);
    return line;
  }

  // A credential from the munge CLI (as `user`, "" = root) with `payload`, from munged `sock`.
  std::string credential(const std::string& payload, const std::string& sock, const std::string& user = "",
                         const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv{"munge", "-S", sock, "-s", payload};
    argv.insert(argv.end(), extra.begin(), extra.end());
    Result r = run(argv, user);
    EXPECT_EQ(r.code, 0) << r.err;
    return chomp(r.out);
  }
  std::string our_sock() { return c.tmp() + "/munge.sock"; }

  // Makes the credential of a request from the connection's nonce and socket.
  using MakeCredential = std::function<std::string(const std::string& nonce, int fd)>;
  // A root (or `user`) credential bound to the connection, with `node` for a mom.
  MakeCredential bound(const std::string& role, const std::string& node = "", const std::string& user = "") {
    return [=, this](const std::string& nonce, int fd) {
      return credential(reprise::binding_payload(reprise::connection_binding(fd, true, role, nonce, node)), our_sock(), user);
    };
  }

  // One framed Request on a new TCP connection; returns the Response. With `make`, the
  // request follows the server's challenge and carries make(nonce, fd) as its credential.
  // `peer` is the local "127.0.0.1:port" of that connection: the address the server's log must name.
  wire::Response raw(wire::Request req, std::string& peer, const MakeCredential& make = {}) {
    wire::Response resp;
    std::string error;
    int fd = reprise::connect_tcp("127.0.0.1", c.port(), error);
    EXPECT_GE(fd, 0) << error;
    if (fd < 0) return resp;
    peer = reprise::local_address(fd);
    req.set_version(reprise::kProtocolVersion);
    if (make) {
      wire::Request challenge;
      challenge.set_version(reprise::kProtocolVersion);
      challenge.set_op("challenge");
      wire::Response nonce;
      EXPECT_TRUE(reprise::send_message(fd, challenge, error) && reprise::recv_message(fd, nonce, error, 10000)) << error;
      EXPECT_EQ(nonce.code(), 0) << nonce.error();
      req.set_credential(make(nonce.text(), fd));
    }
    EXPECT_TRUE(reprise::send_message(fd, req, error)) << error;
    EXPECT_TRUE(reprise::recv_message(fd, resp, error, 10000)) << error;
    // The server closes a refused connection after its one reply.
    if (resp.code() != 0) {
      char b;
      EXPECT_EQ(::read(fd, &b, 1), 0) << "a refused connection is closed";
    }
    ::close(fd);
    return resp;
  }
  wire::Response raw_status(const std::string& cred, std::string& peer) {
    wire::Request req;
    req.set_op("status_server");
    req.set_credential(cred);
    return raw(req, peer);
  }

  // Environment of a remote client: no Unix socket reachable (empty PBS_HOME), server by address.
  std::map<std::string, std::string> remote_env(const std::string& munge_sock) {
    std::string empty = c.tmp() + "/empty-home";
    ::mkdir(empty.c_str(), 0755);
    return {{"PBS_HOME", empty}, {"PBS_SERVER", "127.0.0.1:" + std::to_string(c.port())}, {"MUNGE_SOCKET", munge_sock}};
  }

  Cluster c;
};

TEST_F(Munge, RequestWithoutCredentialIsRefusedAndLogged) {
  std::string peer;
  wire::Response r = raw_status("", peer);
  EXPECT_EQ(r.code(), kErrPermission);
  EXPECT_NE(r.error().find("no credential"), std::string::npos) << r.error();
  std::string line = log_line_with("refused connection from " + peer + " ");
  EXPECT_NE(line.find("(op status_server): no credential"), std::string::npos) << log();
}

TEST_F(Munge, ReplayedCredentialIsRefusedAndLogged) {
  std::string cred, first, second;
  wire::Request req;
  req.set_op("status_server");
  wire::Response ok = raw(req, first, [&](const std::string& nonce, int fd) { return cred = bound("user")(nonce, fd); });
  EXPECT_EQ(ok.code(), 0) << ok.error();
  EXPECT_EQ(log().find("refused connection from " + first), std::string::npos) << log();
  // The same credential again, as its own connection's answer: munged has seen it.
  wire::Response again = raw(req, second, [&](const std::string&, int) { return cred; });
  EXPECT_EQ(again.code(), kErrPermission);
  EXPECT_NE(again.error().find("replayed credential"), std::string::npos) << again.error();
  std::string line = log_line_with("refused connection from " + second + " ");
  EXPECT_NE(line.find("user root): replayed credential [munge: "), std::string::npos) << log();
}

// A credential that MUNGE accepts but that is not bound to this connection: an unbound
// payload, no challenge asked, another connection's nonce, another role.
TEST_F(Munge, CredentialNotBoundToTheConnectionIsRefusedAndLogged) {
  wire::Request req;
  req.set_op("status_server");
  struct Case {
    MakeCredential make;
    std::string says;
  };
  std::vector<Case> cases = {
      {[&](const std::string&, int) { return credential("somehost", our_sock()); }, "credential not bound to a connection"},
      {[&](const std::string&, int fd) { return bound("user")("0123456789abcdef0123456789abcdef", fd); },
       "credential bound to another connection [binding: it answers challenge 01234567..."},
      {bound("mom", "node1"), "credential made for a mom [binding: this needs role user]"},
  };
  for (const Case& k : cases) {
    std::string peer;
    wire::Response r = raw(req, peer, k.make);
    EXPECT_EQ(r.code(), kErrPermission) << k.says;
    EXPECT_NE(r.error().find("Unauthorized Request (" + k.says.substr(0, k.says.find(" [")) + ": "), std::string::npos) << r.error();
    std::string line = log_line_with("refused connection from " + peer + " ");
    EXPECT_NE(line.find("(op status_server, user root): " + k.says), std::string::npos) << line;
  }
  // Without a challenge the server has no nonce for this connection.
  std::string peer;
  wire::Response r = raw_status(credential(reprise::binding_payload({"user", "0123456789abcdef0123456789abcdef", "127.0.0.1:1", "127.0.0.1:2", ""}), our_sock()), peer);
  EXPECT_EQ(r.code(), kErrPermission);
  EXPECT_NE(log_line_with("refused connection from " + peer + " ").find("not this connection's (none issued)"), std::string::npos) << log();
  // A second challenge on one connection is refused.
  std::string error;
  int fd = reprise::connect_tcp("127.0.0.1", c.port(), error);
  ASSERT_GE(fd, 0) << error;
  wire::Request challenge;
  challenge.set_version(reprise::kProtocolVersion);
  challenge.set_op("challenge");
  wire::Response first, second;
  ASSERT_TRUE(reprise::send_message(fd, challenge, error) && reprise::recv_message(fd, first, error, 10000)) << error;
  EXPECT_EQ(first.code(), 0);
  EXPECT_TRUE(reprise::valid_nonce(first.text())) << first.text();
  ASSERT_TRUE(reprise::send_message(fd, challenge, error) && reprise::recv_message(fd, second, error, 10000)) << error;
  EXPECT_EQ(second.error(), "Unauthorized Request (one challenge per connection)");
  ::close(fd);
}

TEST_F(Munge, ExpiredCredentialIsRefusedAndLogged) {
  std::string cred = credential("oldhost", our_sock(), "", {"-t", "1"});
  std::this_thread::sleep_for(2500ms);
  std::string peer;
  wire::Response r = raw_status(cred, peer);
  EXPECT_EQ(r.code(), kErrPermission);
  EXPECT_NE(r.error().find("expired credential"), std::string::npos) << r.error();
  std::string line = log_line_with("refused connection from " + peer + " ");
  EXPECT_NE(line.find("user root): expired credential"), std::string::npos) << log();
}

TEST_F(Munge, GarbageCredentialIsRefusedAndLogged) {
  for (std::string garbage : {"not a credential", "MUNGE:AwQFAAB0aGlzIGlzIG5vdCBhIGNyZWRlbnRpYWw=:"}) {
    std::string peer;
    wire::Response r = raw_status(garbage, peer);
    EXPECT_EQ(r.code(), kErrPermission) << garbage;
    EXPECT_NE(r.error().find("Unauthorized Request"), std::string::npos) << r.error();
    std::string line = log_line_with("refused connection from " + peer + " ");
    EXPECT_NE(line.find("(op status_server): malformed credential [munge: "), std::string::npos) << log();
    EXPECT_NE(r.error().find("malformed credential"), std::string::npos) << r.error();
    EXPECT_NE(line.find("[munge: "), std::string::npos) << line;
    EXPECT_EQ(line.find("user "), std::string::npos) << "garbage claims nobody: " << line;
  }
}

TEST_F(Munge, RemoteClientWithAnotherKeyIsRefusedAndLogged) {
  OtherMunge other(c.tmp());
  ASSERT_TRUE(other.ok) << "second munged did not start";
  // The credential itself is fine for the other munged; the server's munged cannot decode it.
  Result r = run({bin("qstat")}, kUser, remote_env(other.sock));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("qstat: Unauthorized Request (invalid credential (wrong MUNGE key or altered)"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  std::string line = log_line_with("(op status_job): invalid credential (wrong MUNGE key or altered)");
  EXPECT_NE(line.find("refused connection from 127.0.0.1:"), std::string::npos) << log();
  // The same client with the server's key works.
  EXPECT_EQ(run({bin("qstat")}, kUser, remote_env(our_sock())).code, 0);
}

TEST_F(Munge, MomWithAnotherKeyIsRefusedAndItsNodeStaysDown) {
  OtherMunge other(c.tmp());
  ASSERT_TRUE(other.ok) << "second munged did not start";
  std::string home2 = c.tmp() + "/home2";
  ASSERT_EQ(run({"mkdir", "-p", home2 + "/mom_priv"}).code, 0);
  {
    std::ofstream cfg(home2 + "/mom_priv/config");
    cfg << "$pbsserver 127.0.0.1:" << c.port() << "\n$mom_host node2\n";
  }
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "create node node2 np=1"}).code, 0);
  auto env = c.env();
  env["MUNGE_SOCKET"] = other.sock;
  ASSERT_EQ(run({bin("pbs_mom"), "-d", home2}, "", env).code, 0);
  struct StopMom {
    std::string home;
    ~StopMom() { run({"sh", "-c", "kill -9 $(cat " + home + "/mom_priv/mom.lock)"}); }
  } stop{home2};
  std::string line = log_line_with("(op mom_register, node node2): invalid credential (wrong MUNGE key or altered)");
  EXPECT_NE(line.find("refused connection from 127.0.0.1:"), std::string::npos) << log();
  // The mom is told, in one line in its log.
  EXPECT_TRUE(wait_for([&] { return slurp(home2 + "/mom_logs/mom.log").find("server refused us: Unauthorized Request (invalid credential") != std::string::npos; }, 5s))
      << slurp(home2 + "/mom_logs/mom.log");
  // It keeps retrying and keeps being refused: node2 stays down, node1 (the good mom) is free.
  std::this_thread::sleep_for(1500ms);
  Result nodes = c.cmd("", {"pbsnodes", "node2"});
  EXPECT_NE(nodes.out.find("state = down"), std::string::npos) << nodes.out;
  EXPECT_EQ(log().find("node node2 is up"), std::string::npos) << log();
  EXPECT_NE(c.cmd("", {"pbsnodes", "-a"}).out.find("state = free"), std::string::npos);
}

TEST_F(Munge, MomRegistrationMustMatchItsCredential) {
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "create node node2 np=1"}).code, 0);
  wire::Request reg;
  reg.set_op("mom_register");
  reg.set_node("node2");
  reg.set_arg("0123456789abcdef0123456789abcdef");  // the mom's nonce for the server's proof
  // A root credential naming another node.
  std::string peer;
  wire::Response r = raw(reg, peer, bound("mom", "elsewhere"));
  EXPECT_EQ(r.code(), kErrPermission);
  EXPECT_NE(r.error().find("the credential names node 'elsewhere', not node2"), std::string::npos) << r.error();
  std::string line = log_line_with("mom registration refused: peer " + peer + ", node node2, user root: ");
  EXPECT_NE(line.find("names node 'elsewhere'"), std::string::npos) << log();
  // A credential naming node2, but of an ordinary user.
  r = raw(reg, peer, bound("mom", "node2", kUser));
  EXPECT_EQ(r.code(), kErrPermission);
  EXPECT_NE(r.error().find("a mom must run as root"), std::string::npos) << r.error();
  line = log_line_with("mom registration refused: peer " + peer + ", node node2, user " + kUser + ": ");
  EXPECT_NE(line.find("a mom must run as root"), std::string::npos) << log();
  // A good credential, but no nonce for the server's proof to answer.
  reg.clear_arg();
  r = raw(reg, peer, bound("mom", "node2"));
  EXPECT_EQ(r.error(), "Unauthorized Request (the registration carries no valid nonce for the server's proof)");
  EXPECT_NE(c.cmd("", {"pbsnodes", "node2"}).out.find("state = down"), std::string::npos);
  EXPECT_EQ(log().find("node node2 is up"), std::string::npos) << log();
}

TEST_F(Munge, RemoteClientIsIdentifiedAsItsUser) {
  auto env = remote_env(our_sock());
  // No Unix socket in reach: these go over TCP with the user's credential.
  Result sub = run({bin("qsub"), "-N", "remote"}, kUser, env, c.workdir(kUser), "id -un\n");
  ASSERT_EQ(sub.code, 0) << sub.err;
  std::string id = chomp(sub.out);
  EXPECT_EQ(c.attr(id, "euser"), kUser);
  EXPECT_EQ(c.attr(id, "Job_Owner").rfind(std::string(kUser) + "@", 0), 0u) << c.attr(id, "Job_Owner");
  Result st = run({bin("qstat"), "-f", id}, kUser, env);
  EXPECT_EQ(st.code, 0) << st.err;
  EXPECT_NE(st.out.find("euser = " + std::string(kUser)), std::string::npos) << st.out;
  ASSERT_TRUE(c.wait_state(id, "C"));
  EXPECT_EQ(c.attr(id, "exit_status"), "0");
  EXPECT_EQ(chomp(slurp(c.workdir(kUser) + "/remote.o" + id.substr(0, id.find('.')))), kUser);
  // A manager-only request from that user over TCP is refused as that user.
  Result mgr = run({bin("qmgr"), "-c", "set server scheduling = false"}, kUser, env);
  EXPECT_NE(mgr.code, 0);
  EXPECT_NE(mgr.err.find("Unauthorized Request"), std::string::npos) << mgr.err;
  EXPECT_EQ(log().find("refused connection"), std::string::npos) << log();
}

}  // namespace

namespace {

// A pbs_mom pointed at a fake server (a listener of the test's own) obeys nothing the fake
// sends unless its first command carries pbs_server's credential: root, naming this node,
// bound to this connection and the mom's nonce.
TEST_F(Munge, MomObeysNoServerThatCannotProveItself) {
  std::string error;
  int port = free_port();
  int listener = reprise::listen_tcp("127.0.0.1", port, error);
  ASSERT_GE(listener, 0) << error;
  std::string home2 = c.tmp() + "/fake-server-mom";
  ASSERT_EQ(run({"mkdir", "-p", home2 + "/mom_priv"}).code, 0);
  {
    std::ofstream cfg(home2 + "/mom_priv/config");
    cfg << "$pbsserver 127.0.0.1:" << port << "\n$mom_host node2\n";
  }
  ASSERT_EQ(run({bin("pbs_mom"), "-d", home2}, "", c.env()).code, 0);
  struct StopMom {
    std::string home;
    ~StopMom() { run({"sh", "-c", "kill -9 $(cat " + home + "/mom_priv/mom.lock)"}); }
  } stop{home2};
  std::string marker = c.tmp() + "/fake-server-ran-a-job";
  OtherMunge other(c.tmp());
  ASSERT_TRUE(other.ok);
  // Each proof is bound to the connection the mom made (its nonce, both addresses), so that
  // each case fails on its own check.
  using Proof = std::function<std::string(int fd, const std::string& mom_nonce)>;
  auto proof = [&](const std::string& sock, const std::string& user, const std::string& node) -> Proof {
    return [=, this](int fd, const std::string& mom_nonce) {
      return credential(reprise::binding_payload(reprise::connection_binding(fd, false, "server", mom_nonce, node)), sock, user);
    };
  };
  struct Case {
    Proof credential;
    std::string mom_says;
  };
  std::vector<Case> cases = {
      {[](int, const std::string&) { return std::string(); }, "no credential"},
      {[](int, const std::string&) { return std::string("not a credential"); }, "malformed credential"},
      {proof(other.sock, "", "node2"), "wrong MUNGE key"},
      {proof(our_sock(), kUser, "node2"), "not root"},
      {proof(our_sock(), "", "elsewhere"), "credential made for another node [binding: it names node 'elsewhere', not node2]"},
      {[&](int, const std::string&) { return credential("pbs_server for node node2", our_sock()); }, "credential not bound to a connection"},
  };
  for (const Case& k : cases) {
    // The mom dials in (it retries every second), asks for a challenge and registers.
    pollfd pf{listener, POLLIN, 0};
    ASSERT_EQ(::poll(&pf, 1, 10000), 1) << "the mom did not connect";
    int fd = ::accept(listener, nullptr, nullptr);
    ASSERT_GE(fd, 0);
    wire::Request reg;
    ASSERT_TRUE(reprise::recv_message(fd, reg, error, 10000)) << error;
    EXPECT_EQ(reg.op(), "challenge");
    wire::Response nonce;
    nonce.set_text(reprise::fresh_nonce());
    ASSERT_TRUE(reprise::send_message(fd, nonce, error)) << error;
    ASSERT_TRUE(reprise::recv_message(fd, reg, error, 10000)) << error;
    EXPECT_EQ(reg.op(), "mom_register");
    EXPECT_TRUE(reprise::valid_nonce(reg.arg())) << reg.arg();
    // A job first, then the (bad) proof.
    wire::MomCommand runjob = run_command("1.fake", kUser, "touch " + marker + "\n");
    wire::MomCommand hello;
    hello.set_op("registered");
    hello.set_arg(k.credential(fd, reg.arg()));
    ASSERT_TRUE(reprise::send_message(fd, runjob, error)) << error;
    ASSERT_TRUE(reprise::send_message(fd, hello, error)) << error;
    // The mom hangs up on it and says why.
    char b;
    pollfd rf{fd, POLLIN, 0};
    EXPECT_EQ(::poll(&rf, 1, 10000), 1);
    EXPECT_EQ(::read(fd, &b, 1), 0) << k.mom_says << ": the mom closes the connection";
    ::close(fd);
    EXPECT_TRUE(wait_for([&] {
      return slurp(home2 + "/mom_logs/mom.log").find("refusing commands from 127.0.0.1:" + std::to_string(port)) !=
                 std::string::npos &&
             slurp(home2 + "/mom_logs/mom.log").find(k.mom_says) != std::string::npos;
    }, 5s)) << k.mom_says << "\n" << slurp(home2 + "/mom_logs/mom.log");
  }
  ::close(listener);
  std::this_thread::sleep_for(1s);
  EXPECT_NE(::access(marker.c_str(), F_OK), 0) << "the fake server's job ran";
  EXPECT_EQ(slurp(home2 + "/mom_logs/mom.log").find("1.fake"), std::string::npos);
}

}  // namespace
