// Who may do what: real users (useradd), SO_PEERCRED on the Unix socket, MUNGE on TCP.
#include <gtest/gtest.h>

#include "harness.h"

using namespace reprise::test;
using namespace std::chrono_literals;

namespace {

const char* kAlice = "reprise_u1";
const char* kBob = "reprise_u2";

class Security : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_user(kAlice);
    ensure_user(kBob);
    ASSERT_TRUE(c.ok()) << c.why();
  }
  Cluster c;
};

TEST_F(Security, UsersCannotTouchEachOthersJobs) {
  std::string job = c.submit(kAlice, "sleep 30\n", {"-h"});
  ASSERT_FALSE(job.empty());
  // Bob does not see it in the list, and cannot look at, alter, hold, release, signal or delete it.
  Result list = c.cmd(kBob, {"qstat"});
  EXPECT_EQ(list.out.find(job), std::string::npos) << list.out;
  for (auto argv : std::vector<std::vector<std::string>>{{"qstat", "-f", job},
                                                         {"qdel", job},
                                                         {"qalter", "-N", "stolen", job},
                                                         {"qhold", job},
                                                         {"qrls", job},
                                                         {"qsig", "-s", "KILL", job}}) {
    Result r = c.cmd(kBob, argv);
    EXPECT_NE(r.code, 0) << argv[0];
    EXPECT_NE(r.err.find("Unauthorized Request"), std::string::npos) << argv[0] << ": " << r.err;
  }
  EXPECT_EQ(c.attr(job, "Job_Name"), "STDIN");
  EXPECT_EQ(c.attr(job, "job_state"), "H");
  // Alice sees and changes her own job.
  EXPECT_NE(c.cmd(kAlice, {"qstat"}).out.find(job), std::string::npos);
  EXPECT_EQ(c.cmd(kAlice, {"qalter", "-N", "mine", job}).code, 0);
  EXPECT_EQ(c.attr(job, "Job_Name"), "mine");
  // Root on the server host is a manager.
  EXPECT_EQ(c.cmd("", {"qdel", job}).code, 0);
}

// query_other_jobs lets users see each other's jobs, not their private details: environment,
// paths, arguments, mail addresses and checkpoint names stay with the owner and operators.
TEST_F(Security, OthersJobsShowNoPrivateDetails) {
  std::string job = c.submit(kAlice, "sleep 30\n", {"-h", "-N", "visible", "-v", "SECRET_TOKEN=hunter2"});
  ASSERT_FALSE(job.empty());
  Result hidden = c.cmd(kBob, {"qstat", "-f", job});
  EXPECT_NE(hidden.code, 0) << "without query_other_jobs the job is not Bob's to see";
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set server query_other_jobs = True"}).code, 0);
  Result seen = c.cmd(kBob, {"qstat", "-f", job});
  ASSERT_EQ(seen.code, 0) << seen.err;
  EXPECT_EQ(full_attr(seen.out, "Job_Name"), "visible");
  EXPECT_EQ(full_attr(seen.out, "job_state"), "H");
  EXPECT_FALSE(full_attr(seen.out, "Job_Owner").empty());
  for (const char* name : {"Variable_List", "Output_Path", "Error_Path", "submit_args"})
    EXPECT_EQ(full_attr(seen.out, name), "") << name << " of another user's job is shown";
  EXPECT_EQ(seen.out.find("hunter2"), std::string::npos) << seen.out;
  Result json = c.cmd(kBob, {"qstat", "-f", "-F", "json", job});
  EXPECT_EQ(json.out.find("hunter2"), std::string::npos) << json.out;
  // The owner still sees everything.
  Result own = c.cmd(kAlice, {"qstat", "-f", job});
  EXPECT_NE(own.out.find("SECRET_TOKEN=hunter2"), std::string::npos) << own.out;
  EXPECT_FALSE(full_attr(own.out, "Output_Path").empty());
  c.cmd("", {"qdel", job});
}

TEST_F(Security, HoldTypesNeedTheirPrivilege) {
  std::string job = c.submit(kAlice, "true\n", {"-h"});
  Result o = c.cmd(kAlice, {"qhold", "-h", "o", job});
  EXPECT_NE(o.code, 0) << "an owner cannot set an operator hold";
  Result s = c.cmd(kAlice, {"qhold", "-h", "s", job});
  EXPECT_NE(s.code, 0);
  // Make Bob an operator: he may set and release operator holds on anyone's job, not system holds.
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", std::string("set server operators += ") + kBob + "@*"}).code, 0);
  EXPECT_EQ(c.cmd(kBob, {"qhold", "-h", "o", job}).code, 0);
  EXPECT_EQ(c.attr(job, "Hold_Types"), "uo");
  EXPECT_NE(c.cmd(kBob, {"qhold", "-h", "s", job}).code, 0);
  EXPECT_EQ(c.cmd("", {"qhold", "-h", "s", job}).code, 0);
  // Alice releases her user hold; the job stays held while operator/system holds remain.
  EXPECT_EQ(c.cmd(kAlice, {"qrls", job}).code, 0);
  EXPECT_EQ(c.attr(job, "job_state"), "H");
  EXPECT_NE(c.cmd(kAlice, {"qrls", "-h", "o", job}).code, 0);
  EXPECT_EQ(c.cmd(kBob, {"qrls", "-h", "o", job}).code, 0);
  EXPECT_EQ(c.cmd("", {"qrls", "-h", "s", job}).code, 0);
  EXPECT_TRUE(c.wait_state(job, "C"));
}

TEST_F(Security, OnlyManagersManageAndRootJobsAreRefused) {
  Result r = c.cmd(kAlice, {"qmgr", "-c", "set server scheduling = false"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("Unauthorized Request"), std::string::npos) << r.err;
  EXPECT_EQ(c.cmd(kAlice, {"qmgr", "-c", "list server"}).code, 0) << "listing is allowed";
  EXPECT_NE(c.cmd(kAlice, {"pbsnodes", "-o", "anything"}).code, 0);
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", std::string("set server managers += ") + kAlice + "@*"}).code, 0);
  EXPECT_EQ(c.cmd(kAlice, {"qmgr", "-c", "set server keep_completed = 600"}).code, 0);
  Result root = c.cmd("", {"qsub"}, "/tmp", "true\n");
  EXPECT_NE(root.code, 0);
  EXPECT_NE(root.err.find("root"), std::string::npos) << root.err;
}

TEST_F(Security, TcpClientsNeedMungeAndAreIdentifiedByIt) {
  std::string job = c.submit(kAlice, "true\n", {"-h"});
  auto env = c.env();
  env["PBS_SERVER"] = "127.0.0.1:" + std::to_string(c.port());
  // With MUNGE: identified as Alice over TCP.
  Result own = run({bin("qstat"), "-f", job}, kAlice, env);
  EXPECT_EQ(own.code, 0) << own.err;
  Result other = run({bin("qdel"), job}, kBob, env);
  EXPECT_NE(other.code, 0);
  EXPECT_NE(other.err.find("Unauthorized"), std::string::npos) << other.err;
  // Without a working munged there is no credential and no request.
  env["MUNGE_SOCKET"] = c.tmp() + "/no-such-munge.sock";
  Result nomunge = run({bin("qstat")}, kAlice, env);
  EXPECT_NE(nomunge.code, 0);
  EXPECT_NE(nomunge.err.find("MUNGE"), std::string::npos) << nomunge.err;
}

}  // namespace
