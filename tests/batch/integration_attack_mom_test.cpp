// Issue 10: what a pbs_mom accepts from its server and what the server accepts from a mom.
// Finding 2: job ids from the server went into the mom's paths unchecked. And a mom's report
// copied every attribute it carried into the job (exit status, comment, even owner fields):
// a mom may change only what a mom owns.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "attack_peers.h"
#include "common/auth_binding.h"
#include "common/net.h"
#include "common/wire.h"
#include "harness.h"
#include "reprise.pb.h"

using namespace reprise::test;
using namespace std::chrono_literals;
namespace wire = reprise::wire;

namespace {

const char* kAlice = "reprise_u1";

class AttackMom : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_user(kAlice);
    ASSERT_TRUE(c.ok()) << c.why();
    ::setenv("MUNGE_SOCKET", c.env().at("MUNGE_SOCKET").c_str(), 1);  // our credentials
  }
  std::string server_log() { return slurp(c.home() + "/server_logs/server.log"); }
  Cluster c;
};

// Finding 2: a job id of ../../../../etc/x made the mom write a root-owned file in /etc. The
// sender is whoever the mom takes for its server (here the test, root, with a valid proof):
// the mom checks every id against SEQ[.INDEX].SERVER before any path is built from it.
TEST_F(AttackMom, MomRefusesJobIdsThatAreNotJobIds) {
  std::string error;
  int port = free_port();
  int listener = reprise::listen_tcp("127.0.0.1", port, error);
  ASSERT_GE(listener, 0) << error;
  std::string home2 = c.tmp() + "/mom-of-a-hostile-server";
  ASSERT_EQ(run({"mkdir", "-p", home2 + "/mom_priv"}).code, 0);
  std::ofstream(home2 + "/mom_priv/config") << "$pbsserver 127.0.0.1:" << port << "\n$mom_host node2\n";
  ASSERT_EQ(run({bin("pbs_mom"), "-d", home2}, "", c.env()).code, 0);
  struct StopMom {
    std::string home;
    ~StopMom() { run({"sh", "-c", "kill -9 $(cat " + home + "/mom_priv/mom.lock)"}); }
  } stop{home2};

  int fd = -1;
  wire::Request reg;
  ASSERT_TRUE(accept_peer(listener, reprise::fresh_nonce(), fd, reg)) << "the mom did not register";
  ASSERT_EQ(reg.op(), "mom_register");
  // The proof a real server gives: root's credential bound to this connection and the mom's nonce.
  wire::MomCommand ok;
  ok.set_op("registered");
  ok.set_arg(make_credential(reprise::binding_payload(reprise::connection_binding(fd, false, "server", reg.arg(), "node2"))));
  ASSERT_TRUE(reprise::send_message(fd, ok, error)) << error;

  std::string work = c.workdir(kAlice);
  auto run_cmd = [&](const std::string& id, const std::string& script) {
    wire::MomCommand cmd = run_command(id, kAlice, script);
    (*cmd.mutable_attrs())["Output_Path"] = "node2:" + work + "/out";
    (*cmd.mutable_attrs())["Error_Path"] = "node2:" + work + "/err";
    return reprise::send_message(fd, cmd, error);
  };
  std::string up = "../../../../../../../../../../..";
  std::string evil = c.tmp() + "/evil";
  std::vector<std::string> bad_ids = {up + evil, "1.x/" + up + evil, up + evil + "\n", "1." + std::string(300, 'a'), ""};
  for (const std::string& id : bad_ids) ASSERT_TRUE(run_cmd(id, "touch " + evil + ".ran\n")) << error;
  // A well-formed id afterwards runs: the mom did trust this server, it refused only the ids.
  std::string marker = work + "/good-job-ran";
  ASSERT_TRUE(run_cmd("7.hostile", "touch " + marker + "\n")) << error;
  EXPECT_TRUE(wait_for([&] { return ::access(marker.c_str(), F_OK) == 0; }, 15s))
      << slurp(home2 + "/mom_logs/mom.log");
  for (const char* ext : {".JB", ".SC", ".EX", ".ran", ""}) {
    struct stat st{};
    EXPECT_NE(::lstat((evil + ext).c_str(), &st), 0) << "the mom wrote " << evil << ext;
  }
  std::string log = slurp(home2 + "/mom_logs/mom.log");
  size_t refusals = 0;
  for (size_t at = 0; (at = log.find("ignoring 'run' for an invalid job id", at)) != std::string::npos; ++at) ++refusals;
  EXPECT_EQ(refusals, bad_ids.size()) << log;
  ::close(fd);
  ::close(listener);
}

// A mom's report may set only what a mom owns: state results, resources used, checkpoint
// results. A report that also names a new owner, paths or resources changes none of them.
TEST_F(AttackMom, MomReportCannotRewriteOwnerPathsOrRequests) {
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "create node node2 np=1"}).code, 0);
  std::string nonce, error;
  int fd = open_session(c.port(), nonce);
  ASSERT_GE(fd, 0);
  wire::Request reg;
  reg.set_version(reprise::kProtocolVersion);
  reg.set_op("mom_register");
  reg.set_node("node2");
  reg.set_credential(make_credential(bound_payload("mom", nonce, fd, "node2")));
  reg.set_arg(reprise::fresh_nonce());
  ASSERT_TRUE(reprise::send_message(fd, reg, error)) << error;
  wire::MomCommand cmd;
  ASSERT_TRUE(reprise::recv_message(fd, cmd, error, 10000)) << error;
  ASSERT_EQ(cmd.op(), "registered") << cmd.DebugString();

  std::string job = c.submit(kAlice, "sleep 100\n", {"-h", "-l", "walltime=00:10:00"});
  ASSERT_FALSE(job.empty());
  std::string owner = c.attr(job, "Job_Owner"), out = c.attr(job, "Output_Path");
  ASSERT_EQ(c.cmd("", {"qrun", "-H", "node2", job}).code, 0);
  std::string start_count;
  for (int i = 0; i < 20 && start_count.empty(); ++i) {
    ASSERT_TRUE(reprise::recv_message(fd, cmd, error, 10000)) << error;
    if (cmd.op() == "run" && cmd.id() == job) start_count = cmd.attrs().at("start_count");
  }
  ASSERT_FALSE(start_count.empty()) << "the server did not send the job to node2";

  auto report = [&](const std::string& op, bool finished) {
    wire::Request r;
    r.set_version(reprise::kProtocolVersion);
    r.set_op(op);
    wire::JobReport* j = r.add_jobs();
    j->set_id(job);
    j->set_finished(finished);
    j->set_exit_status(3);
    j->set_session_id(4242);
    auto& a = *j->mutable_attrs();
    a["_start_count"] = start_count;
    if (finished) {
      a["comment"] = "the mom's own words";
      a["resources_used.cput"] = "00:00:07";
      for (const char* forged : {"Job_Owner", "euser", "egroup", "Output_Path", "Resource_List.walltime",
                                 "exec_host", "queue", "Variable_List"})
        a[forged] = "forged";
    }
    return reprise::send_message(fd, r, error);
  };
  ASSERT_TRUE(report("mom_started", false)) << error;
  ASSERT_TRUE(report("mom_obit", true)) << error;
  ASSERT_TRUE(c.wait_state(job, "C", 15)) << c.cmd("", {"qstat", "-f", job}).out;
  EXPECT_EQ(c.attr(job, "exit_status"), "3");
  EXPECT_EQ(c.attr(job, "comment"), "the mom's own words");
  EXPECT_EQ(c.attr(job, "resources_used.cput"), "00:00:07");
  EXPECT_EQ(c.attr(job, "Job_Owner"), owner);
  EXPECT_EQ(c.attr(job, "euser"), kAlice);
  EXPECT_EQ(c.attr(job, "Output_Path"), out);
  EXPECT_EQ(c.attr(job, "Resource_List.walltime"), "00:10:00");
  EXPECT_EQ(c.attr(job, "queue"), "batch");
  EXPECT_EQ(c.attr(job, "exec_host").rfind("node2/", 0), 0u) << c.attr(job, "exec_host");
  EXPECT_NE(server_log().find("ignoring a mom's report of Job_Owner"), std::string::npos) << server_log();
  ::close(fd);
}

}  // namespace
