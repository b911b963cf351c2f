// Client commands against a real server: output formats, qmgr, and bad input.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "harness.h"

using namespace reprise::test;
using namespace std::chrono_literals;

namespace {

const char* kUser = "reprise_u1";

class Clients : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_user(kUser);
    ASSERT_TRUE(c.ok()) << c.why();
  }
  Cluster c;
};

TEST_F(Clients, QstatFormats) {
  std::string id = c.submit(kUser, "true\n", {"-h", "-N", "fmt", "-l", "walltime=00:10:00,mem=1gb"});
  ASSERT_FALSE(id.empty());
  Result table = c.cmd(kUser, {"qstat"});
  ASSERT_EQ(table.code, 0);
  EXPECT_EQ(table.out.substr(0, table.out.find('\n')), "Job id                    Name             User            Time Use S Queue");
  EXPECT_NE(table.out.find(" H batch"), std::string::npos) << table.out;
  Result alt = c.cmd(kUser, {"qstat", "-a"});
  EXPECT_NE(alt.out.find("Req'd"), std::string::npos);
  EXPECT_NE(alt.out.find("00:10:00"), std::string::npos) << alt.out;
  EXPECT_NE(alt.out.find("1gb"), std::string::npos);
  Result n = c.cmd(kUser, {"qstat", "-n"});
  EXPECT_NE(n.out.find("\n    -- \n"), std::string::npos) << n.out;  // TORQUE's blank exec host
  Result full = c.cmd(kUser, {"qstat", "-f", id});
  EXPECT_EQ(full.out.rfind("Job Id: " + id + "\n", 0), 0u) << full.out;
  EXPECT_NE(full.out.find("    Resource_List.walltime = 00:10:00\n"), std::string::npos);
  EXPECT_NE(full.out.find("    Job_Owner = reprise_u1@"), std::string::npos);
  EXPECT_NE(full.out.find("    Checkpoint = u\n"), std::string::npos);
  Result json = c.cmd(kUser, {"qstat", "-f", "-F", "json", id});
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["Jobs"][id]["Job_Name"], "fmt");
  EXPECT_EQ(j["Jobs"][id]["Resource_List"]["mem"], "1gb");
  Result q = c.cmd(kUser, {"qstat", "-Q"});
  EXPECT_NE(q.out.find("batch"), std::string::npos);
  EXPECT_NE(q.out.find("yes   yes"), std::string::npos) << q.out;
  Result b = c.cmd(kUser, {"qstat", "-B"});
  EXPECT_NE(b.out.find("Active"), std::string::npos) << b.out;
  Result unknown = c.cmd(kUser, {"qstat", "99999." + c.attr(id, "server")});
  EXPECT_NE(unknown.code, 0);
  EXPECT_EQ(unknown.err, "qstat: Unknown Job Id 99999." + c.attr(id, "server") + "\n");
}

TEST_F(Clients, QmgrManagesQueuesServerAndNodes) {
  auto q = [&](const std::string& cmd) { return c.cmd("", {"qmgr", "-c", cmd}); };
  EXPECT_EQ(q("create queue fast").code, 0);
  EXPECT_EQ(q("set queue fast enabled = true, started = true").code, 0);
  EXPECT_EQ(q("set queue fast resources_max.walltime = 00:05:00").code, 0);
  Result list = q("list queue fast");
  EXPECT_NE(list.out.find("Queue fast\n"), std::string::npos);
  EXPECT_NE(list.out.find("\tresources_max.walltime = 00:05:00\n"), std::string::npos) << list.out;
  std::string ok = c.submit(kUser, "true\n", {"-q", "fast", "-l", "walltime=00:01:00"});
  EXPECT_FALSE(ok.empty());
  Result too_long = c.cmd(kUser, {"qsub", "-q", "fast", "-l", "walltime=01:00:00"}, c.workdir(kUser), "true\n");
  EXPECT_NE(too_long.code, 0);
  EXPECT_NE(too_long.err.find("exceeds queue resource limits"), std::string::npos) << too_long.err;
  EXPECT_EQ(q("set queue fast enabled = false").code, 0);
  Result disabled = c.cmd(kUser, {"qsub", "-q", "fast"}, c.workdir(kUser), "true\n");
  EXPECT_NE(disabled.err.find("not enabled"), std::string::npos) << disabled.err;
  Result print = q("print server");
  EXPECT_NE(print.out.find("create queue fast\n"), std::string::npos) << print.out;
  EXPECT_NE(print.out.find("set server scheduling = True\n"), std::string::npos) << print.out;
  // Interactive mode reads commands from stdin.
  Result inter = c.cmd("", {"qmgr"}, "/", "create node extra np=3\nlist node extra\nquit\n");
  EXPECT_EQ(inter.code, 0) << inter.err;
  EXPECT_NE(inter.out.find("\tnp = 3\n"), std::string::npos) << inter.out;
  EXPECT_NE(c.cmd("", {"pbsnodes", "-l"}).out.find("extra"), std::string::npos) << "a node without mom is down";
  EXPECT_EQ(q("delete node extra").code, 0);
  EXPECT_TRUE(wait_for([&] { return c.attr(ok, "job_state") == "C"; }, 10s));
  EXPECT_EQ(q("delete queue fast").code, 0);
  Result bad = q("set queue nosuch enabled = true");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("Unknown queue"), std::string::npos);
  EXPECT_NE(q("set server no_such_attribute = 1").code, 0);
  EXPECT_NE(q("set server scheduling = maybe").code, 0);
  EXPECT_NE(q("frobnicate server").code, 0);
}

TEST_F(Clients, BadSubmissionsGetClearErrors) {
  std::string dir = c.workdir(kUser);
  struct Case {
    std::vector<std::string> argv;
    std::string script, expect;
  };
  std::vector<Case> cases = {
      {{"qsub"}, "#PBS -l walltime=abc\ntrue\n", "walltime"},
      {{"qsub"}, "#PBS -N 'unterminated\ntrue\n", "line 1"},
      {{"qsub"}, "#PBS notanoption\ntrue\n", "line 1"},
      {{"qsub", "-Z"}, "true\n", "invalid option"},
      {{"qsub", "-l", "nodes=0"}, "true\n", "node count"},
      {{"qsub", "-l", "frobs=3"}, "true\n", "Unknown resource"},
      {{"qsub", "-l", "mem=lots"}, "true\n", "mem"},
      {{"qsub", "-q", "nosuchqueue"}, "true\n", "Unknown queue"},
      {{"qsub", "-j", "xy"}, "true\n", "-j"},
      {{"qsub", "-c", "sometimes"}, "true\n", "-c"},
      {{"qsub"}, "", "empty"},
  };
  for (const auto& k : cases) {
    Result r = c.cmd(kUser, k.argv, dir, k.script);
    EXPECT_NE(r.code, 0) << k.script;
    EXPECT_NE(r.err.find(k.expect), std::string::npos) << "stderr: " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
  }
  EXPECT_EQ(c.cmd(kUser, {"qstat"}).out, "") << "nothing was stored";
  // Checkpoint options are accepted and kept for the next stage.
  std::string id = c.submit(kUser, "true\n", {"-h", "-c", "enabled,periodic,interval=1,depth=2,dir=/tmp"});
  EXPECT_EQ(c.attr(id, "Checkpoint"), "enabled,periodic,interval=1,depth=2,dir=/tmp");
}

// Raw bytes on the Unix socket: an oversized frame and garbage get an error; the server lives.
TEST_F(Clients, OversizedAndGarbageFramesAreRejected) {
  auto raw = [&](const std::string& bytes) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::string path = c.home() + "/pbs_server.sock";
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(write(fd, bytes.data(), bytes.size()), ssize_t(bytes.size()));
    std::string reply;
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) reply.append(buf, size_t(n));
    close(fd);
    return reply;
  };
  std::string big = raw(std::string("\x7f\xff\xff\xff", 4));
  EXPECT_NE(big.find("exceeds the limit"), std::string::npos);
  std::string garbage = raw(std::string("\x00\x00\x00\x05\xff\xff\xff\xff\xff", 9));
  EXPECT_NE(garbage.find("malformed"), std::string::npos);
  std::string wrong_version = raw(std::string("\x00\x00\x00\x02\x08\x63", 6));
  EXPECT_NE(wrong_version.find("version 99"), std::string::npos);
  EXPECT_EQ(c.cmd(kUser, {"qstat", "-B"}).code, 0) << "server keeps serving";
}

}  // namespace
