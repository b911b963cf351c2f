// Real daemons, real jobs: running as the owner, TORQUE's environment and files, exit
// status, walltime, signals, deletion, holds, dependencies, reruns.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>
#include <sstream>

#include "harness.h"

using namespace reprise::test;
using namespace std::chrono_literals;

namespace {

const char* kUser = "reprise_u1";

class Jobs : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_user(kUser);
    ASSERT_TRUE(c.ok()) << c.why();
  }
  Cluster c;
};

TEST_F(Jobs, RunsAsOwnerWithTorqueEnvironmentAndOutputFiles) {
  std::string id = c.submit(kUser,
                            "#!/bin/bash\n#PBS -N envjob\n"
                            "id -un\necho JOBID=$PBS_JOBID\necho NAME=$PBS_JOBNAME\necho WORKDIR=$PBS_O_WORKDIR\n"
                            "echo HOST=$PBS_O_HOST\necho QUEUE=$PBS_QUEUE\necho ENV=$PBS_ENVIRONMENT\n"
                            "echo HOME=$PBS_O_HOME\necho NODES=$(cat $PBS_NODEFILE)\necho SID=$(ps -o sid= $$)\n"
                            "echo FOO=$FOO\necho PWD=$(pwd)\necho oops >&2\n",
                            {"-v", "FOO=bar", "-d", "/tmp"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C"));
  EXPECT_EQ(c.attr(id, "exit_status"), "0");
  std::string dir = c.workdir(kUser);
  std::string out = slurp(dir + "/envjob.o" + seq_of(id));
  EXPECT_NE(out.find(std::string(kUser) + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("JOBID=" + id + "\n"), std::string::npos) << out;
  EXPECT_NE(out.find("NAME=envjob\n"), std::string::npos);
  EXPECT_NE(out.find("WORKDIR=" + dir + "\n"), std::string::npos);
  EXPECT_NE(out.find("QUEUE=batch\n"), std::string::npos);
  EXPECT_NE(out.find("ENV=PBS_BATCH\n"), std::string::npos);
  EXPECT_NE(out.find("HOME=/home/" + std::string(kUser) + "\n"), std::string::npos);
  EXPECT_NE(out.find("HOST="), std::string::npos);
  EXPECT_NE(out.find("FOO=bar\n"), std::string::npos) << "-v passes variables";
  EXPECT_NE(out.find("PWD=/tmp\n"), std::string::npos) << "-d sets the working directory";
  EXPECT_EQ(slurp(dir + "/envjob.e" + seq_of(id)), "oops\n");
  struct stat st;
  ASSERT_EQ(stat((dir + "/envjob.o" + seq_of(id)).c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, getpwnam(kUser)->pw_uid) << "output file must belong to the job owner";
  // Own session: the job shell is its session's leader, not in the mom's session.
  auto sid = out.substr(out.find("SID=") + 4);
  EXPECT_NE(std::stol(sid), getsid(c.mom_pid()));
}

TEST_F(Jobs, ExitStatusOptionsAndJoin) {
  std::string dir = c.workdir(kUser);
  std::string id = c.submit(kUser, "#PBS -N first\n#PBS -j oe\necho out; echo err >&2; exit 3\n",
                            {"-N", "second", "-o", dir + "/custom.out"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C"));
  EXPECT_EQ(c.attr(id, "exit_status"), "3");
  EXPECT_EQ(c.attr(id, "Job_Name"), "second") << "command line overrides #PBS";
  std::string joined = slurp(dir + "/custom.out");
  EXPECT_NE(joined.find("out\n"), std::string::npos);
  EXPECT_NE(joined.find("err\n"), std::string::npos) << "-j oe joins stderr into stdout";
}

TEST_F(Jobs, WalltimeIsEnforced) {
  std::string id = c.submit(kUser, "sleep 60\n", {"-l", "walltime=00:00:02", "-N", "slow"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "R", 10));
  ASSERT_TRUE(c.wait_state(id, "C", 15)) << "walltime of 2s not enforced";
  EXPECT_EQ(c.attr(id, "exit_status"), "271");
  std::string err = slurp(c.workdir(kUser) + "/slow.e" + seq_of(id));
  size_t first = err.find("=>> PBS: job killed: walltime ");
  ASSERT_NE(first, std::string::npos) << err;
  EXPECT_EQ(err.find("=>> PBS: job killed: walltime ", first + 1), std::string::npos) << "said twice: " << err;
}

TEST_F(Jobs, QdelAndQsigReachRunningJob) {
  std::string id = c.submit(kUser, "trap 'echo got-usr1' USR1\necho ready\nfor i in $(seq 600); do sleep 0.1; done\n",
                            {"-N", "sig"});
  ASSERT_TRUE(c.wait_state(id, "R", 10));
  std::string out = c.workdir(kUser) + "/sig.o" + seq_of(id);
  // Signal only once the shell has installed its trap.
  ASSERT_TRUE(wait_for([&] { return slurp(out).find("ready") != std::string::npos; }, 10s));
  EXPECT_EQ(c.cmd(kUser, {"qsig", "-s", "USR1", id}).code, 0);
  EXPECT_TRUE(wait_for([&] { return slurp(out).find("got-usr1") != std::string::npos; }, 10s));
  Result del = c.cmd(kUser, {"qdel", id});
  EXPECT_EQ(del.code, 0) << del.err;
  ASSERT_TRUE(c.wait_state(id, "C", 10));
  EXPECT_EQ(c.attr(id, "exit_status"), "271");
  Result again = c.cmd(kUser, {"qdel", id});
  EXPECT_NE(again.code, 0);
}

TEST_F(Jobs, HoldReleaseAndDependencies) {
  std::string held = c.submit(kUser, "true\n", {"-h"});
  ASSERT_FALSE(held.empty());
  EXPECT_EQ(c.attr(held, "job_state"), "H");
  EXPECT_EQ(c.attr(held, "Hold_Types"), "u");
  std::string child = c.submit(kUser, "echo child\n", {"-W", "depend=afterok:" + held});
  ASSERT_FALSE(child.empty());
  EXPECT_EQ(c.attr(child, "job_state"), "H") << "waits for its dependency";
  std::string bad_child = c.submit(kUser, "true\n", {"-W", "depend=afternotok:" + held});
  ASSERT_FALSE(bad_child.empty());
  EXPECT_EQ(c.cmd(kUser, {"qrls", held}).code, 0);
  ASSERT_TRUE(c.wait_state(held, "C"));
  ASSERT_TRUE(c.wait_state(child, "C")) << "afterok child runs after success";
  EXPECT_EQ(c.attr(child, "exit_status"), "0");
  ASSERT_TRUE(c.wait_state(bad_child, "C"));
  EXPECT_NE(c.attr(bad_child, "comment").find("dependency"), std::string::npos) << "afternotok child is deleted";
  Result unknown = c.cmd(kUser, {"qsub", "-W", "depend=afterok:99999"}, c.workdir(kUser), "true\n");
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.err.find("Unknown Job Id 99999"), std::string::npos) << unknown.err;
}

TEST_F(Jobs, QrerunRequeuesRunningJobAndItRunsAgain) {
  std::string id = c.submit(kUser, "sleep 2\n");
  ASSERT_TRUE(c.wait_state(id, "R", 10));
  Result user_try = c.cmd(kUser, {"qrerun", id});
  EXPECT_NE(user_try.code, 0) << "qrerun needs operator privilege";
  ASSERT_EQ(c.cmd("", {"qrerun", id}).code, 0);
  ASSERT_TRUE(wait_for([&] { return c.attr(id, "start_count") == "2"; }, 15s));
  ASSERT_TRUE(c.wait_state(id, "C", 15));
  EXPECT_EQ(c.attr(id, "exit_status"), "0");
}

TEST_F(Jobs, SchedulingOffNeedsQrunAndOfflineNodesGetNothing) {
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set server scheduling = false"}).code, 0);
  std::string id = c.submit(kUser, "true\n");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(c.attr(id, "job_state"), "Q");
  Result nodes = c.cmd("", {"pbsnodes", "-a"});
  std::string node = nodes.out.substr(0, nodes.out.find('\n'));
  ASSERT_EQ(c.cmd("", {"pbsnodes", "-o", node}).code, 0);
  EXPECT_NE(c.cmd("", {"pbsnodes", "-l"}).out.find("offline"), std::string::npos);
  EXPECT_NE(c.cmd("", {"qrun", id}).code, 0) << "no node available while offline";
  ASSERT_EQ(c.cmd("", {"pbsnodes", "-c", node}).code, 0);
  Result run = c.cmd("", {"qrun", "-H", node, id});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_TRUE(c.wait_state(id, "C"));
  EXPECT_NE(c.cmd(kUser, {"qrun", id}).code, 0);
}

TEST_F(Jobs, NodesPpnAndMemoryRequestsArePlaced) {
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set server scheduling = false"}).code, 0);
  Result nodes = c.cmd("", {"pbsnodes", "-a"});
  std::string node = nodes.out.substr(0, nodes.out.find('\n'));
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set node " + node + " np = 4"}).code, 0);
  std::string big = c.submit(kUser, "sleep 30\n", {"-l", "nodes=1:ppn=3,mem=64mb"});
  std::string two = c.submit(kUser, "sleep 30\n", {"-l", "nodes=1:ppn=2"});
  // Jobs no node could ever fit are refused at submit (integration_output_test.cpp).
  EXPECT_EQ(c.submit(kUser, "true\n", {"-l", "nodes=2:ppn=1"}), "") << "only one node exists";
  EXPECT_EQ(c.submit(kUser, "true\n", {"-l", "nodes=1:ppn=5"}), "") << "the node has np = 4";
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set server scheduling = true"}).code, 0);
  ASSERT_TRUE(c.wait_state(big, "R"));
  EXPECT_EQ(c.attr(big, "exec_host"), node + "/0+" + node + "/1+" + node + "/2");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(c.attr(two, "job_state"), "Q") << "only one slot left";
  // Fits the node's memory, not what is left of it beside the running job.
  ASSERT_TRUE(wait_for([&] { return c.cmd("", {"pbsnodes", node}).out.find("physmem=") != std::string::npos; }, 10s));
  std::string phys = c.cmd("", {"pbsnodes", node}).out;
  phys = phys.substr(phys.find("physmem=") + 8);
  long kb = std::stol(phys);
  std::string most = c.submit(kUser, "true\n", {"-l", "mem=" + std::to_string(kb - 1024) + "kb"});
  ASSERT_FALSE(most.empty());
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(c.attr(most, "job_state"), "Q") << "more memory than is left beside the running job";
  EXPECT_EQ(c.cmd("", {"qdel", big}).code, 0);
  EXPECT_TRUE(c.wait_state(two, "R"));
}

}  // namespace

namespace {

// Two moms (two node names on this machine, each with its own mom_priv): nodes=2 spans both.
TEST(MultiNode, JobSpanningTwoMomsGetsBothInItsNodefile) {
  ensure_user(kUser);
  Cluster c;
  ASSERT_TRUE(c.ok()) << c.why();
  SecondMom mom2(c, "node2");
  ASSERT_TRUE(mom2.ok()) << "the second mom did not come up";
  std::string id = c.submit(kUser, "sort $PBS_NODEFILE | tr '\\n' ' '; echo NUM=$PBS_NUM_NODES\n",
                            {"-l", "nodes=2:ppn=1", "-N", "two"});
  ASSERT_TRUE(c.wait_state(id, "C"));
  std::string exec = c.attr(id, "exec_host");
  EXPECT_NE(exec.find("node2/0"), std::string::npos) << exec;
  EXPECT_NE(exec.find('+'), std::string::npos) << exec;
  std::string out = slurp(c.workdir(kUser) + "/two.o" + seq_of(id));
  EXPECT_NE(out.find("node2"), std::string::npos) << out;
  EXPECT_NE(out.find("NUM=2"), std::string::npos) << out;
}

}  // namespace
