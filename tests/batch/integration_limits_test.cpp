// Resource limits on the node (issue 14, item 4): a memory hog stopped by its cgroup, cput
// and file limits, usage reported while the job runs, the cpuset of its cores, and the
// cgroup removed at the end. Tests what this machine has (cgroup v1 or v2); skips what it
// lacks.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "harness.h"
#include "mom/job_limits.h"

using namespace reprise::test;
using namespace std::chrono_literals;

namespace {

const char* kUser = "reprise_p1";

class Limits : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_user(kUser);
    ASSERT_TRUE(c.ok()) << c.why();
  }
  bool cgroup_gone(const std::string& id) {
    for (const std::string& procs : reprise::mom::job_cgroup(c.home(), id).procs_files()) {
      struct stat st{};
      if (::stat(procs.substr(0, procs.rfind('/')).c_str(), &st) == 0) return false;
    }
    return true;
  }
  // Restarts the mom with node status (and so job usage) sent every second.
  void fast_status() {
    c.kill_mom(SIGTERM);
    std::ofstream(c.home() + "/mom_priv/config", std::ios::app) << "$status_update_time 1\n";
    ASSERT_TRUE(c.start_mom());
    ASSERT_TRUE(wait_for([&] { return c.cmd("", {"pbsnodes", "-a"}).out.find("state = free") != std::string::npos; }, 20s));
  }
  std::string file_of(const std::string& id, const char* kind) {
    return slurp(c.workdir(kUser) + "/STDIN." + kind + seq_of(id));
  }
  Cluster c;
};

TEST_F(Limits, MemoryHogIsStoppedByItsLimit) {
  if (!reprise::mom::node_cgroups().has("memory")) GTEST_SKIP() << "no memory cgroup on this machine";
  // 300 MB against mem=10mb: the cgroup stops it at 10 MB, the mom ends the whole job.
  std::string id = c.submit(kUser, bin("programs/big_memory") + " 300 1\necho survived\n",
                            {"-l", "mem=10mb", "-d", c.workdir(kUser)});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C", 60));
  EXPECT_NE(c.attr(id, "exit_status"), "0");
  std::string out = file_of(id, "o");
  EXPECT_EQ(out.find("survived"), std::string::npos) << "the script must not go on after its hog: " << out;
  EXPECT_EQ(out.find("ready"), std::string::npos) << "the hog never had its 300 MB: " << out;
  std::string err = file_of(id, "e");
  EXPECT_NE(err.find("=>> PBS: job killed: mem "), std::string::npos) << err;
  EXPECT_NE(err.find(" exceeded limit 10485760"), std::string::npos) << err;
  EXPECT_NE(c.attr(id, "comment").find("Job killed: memory limit exceeded"), std::string::npos) << c.attr(id, "comment");
  EXPECT_TRUE(cgroup_gone(id)) << "the job's cgroup is removed at its end";
}

TEST_F(Limits, CputLimitEndsTheJob) {
  std::string id = c.submit(kUser, "while :; do :; done\n", {"-l", "cput=2"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C", 60));
  EXPECT_NE(c.attr(id, "exit_status"), "0");
  std::string err = file_of(id, "e");
  EXPECT_NE(err.find("=>> PBS: job killed: cput "), std::string::npos) << err;
  EXPECT_NE(err.find(" exceeded limit 2"), std::string::npos) << err;
  EXPECT_NE(c.attr(id, "comment").find("Job killed: cput limit exceeded"), std::string::npos);
}

TEST_F(Limits, FileLimitStopsAFileFromGrowing) {
  std::string dir = c.workdir(kUser);
  std::string id = c.submit(kUser, "dd if=/dev/zero of=big.out bs=64k count=100 2>/dev/null\necho dd=$?\n",
                            {"-l", "file=1mb", "-d", dir});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C", 60));
  struct stat st{};
  ASSERT_EQ(::stat((dir + "/big.out").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 1 << 20) << "RLIMIT_FSIZE stops the file at 1 MiB";
  std::string out = file_of(id, "o");
  EXPECT_NE(out.find("dd="), std::string::npos);
  EXPECT_EQ(out.find("dd=0\n"), std::string::npos) << "dd is stopped (SIGXFSZ): " << out;
}

TEST_F(Limits, RunningJobReportsItsUsageAndIsBoundToItsCores) {
  fast_status();
  const auto& cg = reprise::mom::node_cgroups();
  std::string id = c.submit(kUser,
                            "grep Cpus_allowed_list /proc/self/status\n"
                            // Busy until the shell itself has 2.5 s of user CPU (field 14 of
                            // its stat, in ticks), however loaded the machine is.
                            "while :; do read -r -a f < /proc/$$/stat; [ ${f[13]} -ge 250 ] && break; done\n"
                            "sleep 60\n",
                            {"-l", "nodes=1:ppn=1"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "R"));
  if (cg.has("cpuacct")) {
    EXPECT_TRUE(wait_for([&] { return c.attr(id, "resources_used.cput") >= "00:00:02"; }, 30s))
        << "cput from the cgroup while running: " << c.attr(id, "resources_used.cput");
  }
  if (cg.has("memory")) {
    EXPECT_TRUE(wait_for([&] { return !c.attr(id, "resources_used.mem").empty() && c.attr(id, "resources_used.mem") != "0kb"; }, 10s));
    EXPECT_FALSE(c.attr(id, "resources_used.vmem").empty());
  }
  EXPECT_FALSE(c.attr(id, "resources_used.walltime").empty());
  if (cg.has("cpuset")) {
    std::string out = file_of(id, "o");
    EXPECT_NE(out.find("Cpus_allowed_list:\t0\n"), std::string::npos) << "slot 0 is the first cpu: " << out;
  }
  EXPECT_FALSE(cgroup_gone(id));
  ASSERT_EQ(c.cmd("", {"qdel", id}).code, 0);
  ASSERT_TRUE(c.wait_state(id, "C", 30));
  EXPECT_TRUE(cgroup_gone(id));
}

TEST_F(Limits, PbsnodesShowsTorquesStatusKeys) {
  fast_status();
  std::string id = c.submit(kUser, "sleep 60\n");
  ASSERT_TRUE(c.wait_state(id, "R"));
  std::string status;
  ASSERT_TRUE(wait_for([&] {
    status = c.cmd("", {"pbsnodes", "-a"}).out;
    return status.find("jobs=" + id) != std::string::npos;
  }, 20s)) << status;
  for (const char* key : {"opsys=linux", "uname=Linux ", "sessions=", "nsessions=", "nusers=", "idletime=", "totmem=",
                          "availmem=", "physmem=", "ncpus=", "loadave=", "netload=", "state=free", "varattr=",
                          "rectime=", "size="})
    EXPECT_NE(status.find(key), std::string::npos) << key << " in " << status;
  // The job's session is one of the node's sessions, and its owner one of its users.
  std::string sid = c.attr(id, "session_id");
  ASSERT_FALSE(sid.empty());
  std::string sessions = status.substr(status.find(",sessions=") + 10);
  sessions = " " + sessions.substr(0, sessions.find(',')) + " ";
  EXPECT_NE(sessions.find(" " + sid + " "), std::string::npos) << sessions;
  std::string nusers = status.substr(status.find(",nusers=") + 8);
  EXPECT_GE(std::stol(nusers.substr(0, nusers.find(','))), 1);
}

}  // namespace
