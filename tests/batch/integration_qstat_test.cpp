// qstat against a real server and mom, as real users: -u lists in the alternative table, -q, -x,
// -s, -R, -G/-M, -c, -W, --version, unknown queues and jobs, and running jobs' resources_used.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>

#include "harness.h"

using namespace reprise::test;
using namespace std::chrono_literals;

namespace {

const char* kUser = "reprise_u1";
const char* kOther = "reprise_u2";
const char* kThird = "reprise_u3";

std::vector<std::string> rows_of(const std::string& out) {
  std::vector<std::string> rows;
  std::istringstream in(out);
  for (std::string l; std::getline(in, l);) rows.push_back(l);
  return rows;
}

class Qstat : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* u : {kUser, kOther, kThird}) ensure_user(u);
    ASSERT_TRUE(c.ok()) << c.why();
  }
  Cluster c;
};

TEST_F(Qstat, UserListInTheAlternativeTable) {
  std::string a = c.submit(kUser, "true\n", {"-h", "-N", "ja", "-l", "walltime=00:10:00,mem=1gb"});
  std::string b = c.submit(kOther, "true\n", {"-h", "-N", "jb"});
  std::string t = c.submit(kThird, "true\n", {"-h", "-N", "jt"});
  ASSERT_FALSE(a.empty() || b.empty() || t.empty());
  Result r = c.cmd("", {"qstat", "-u", std::string(kUser) + "," + kOther});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> rows = rows_of(r.out);
  ASSERT_EQ(rows.size(), 7u) << r.out;
  EXPECT_EQ(rows[0], "");
  EXPECT_EQ(rows[1], c.attr(a, "server") + ": ");
  EXPECT_EQ(rows[2], "                                                                                  Req'd       Req'd       Elap");
  EXPECT_EQ(rows[3], "Job ID                  Username    Queue    Jobname          SessID  NDS   TSK   Memory      Time    S   Time");
  EXPECT_EQ(rows[4], "----------------------- ----------- -------- ---------------- ------ ----- ------ --------- --------- - ---------");
  char want[256];
  std::snprintf(want, sizeof want, "%-23.22s %-11.11s %-8.8s %-16.16s %6.6s", a.c_str(), kUser, "batch", "ja", " -- ");
  EXPECT_EQ(rows[5].substr(0, std::strlen(want)), want) << r.out;
  EXPECT_NE(rows[5].find("1gb  00:10:00 H       -- "), std::string::npos) << rows[5];
  EXPECT_EQ(rows[6].rfind(b.substr(0, 22), 0), 0u) << r.out;
  EXPECT_EQ(r.out.find("\n" + t.substr(0, 22)), std::string::npos) << "not in the list";
  // One user; -u with -f is the full listing of that user's jobs; nobody's jobs print nothing.
  Result one = c.cmd(kOther, {"qstat", "-u", kOther});
  EXPECT_EQ(rows_of(one.out).size(), 6u) << one.out;
  Result f = c.cmd("", {"qstat", "-f", "-u", kThird});
  EXPECT_EQ(f.out.rfind("Job Id: " + t + "\n", 0), 0u) << f.out;
  EXPECT_EQ(f.out.find("Job Id: " + a), std::string::npos);
  Result none = c.cmd("", {"qstat", "-u", "nosuchuser"});
  EXPECT_EQ(none.code, 0);
  EXPECT_EQ(none.out, "");
  // -W u LIST is the same as -u LIST.
  EXPECT_EQ(c.cmd("", {"qstat", "-W", std::string("u ") + kUser + "," + kOther}).out, r.out);
}

TEST_F(Qstat, ArraySubJobsInTheAlternativeTable) {
  std::string array = c.submit(kUser, "true\n", {"-h", "-t", "1-3"});
  ASSERT_FALSE(array.empty());
  std::string seq = array.substr(0, array.find('['));
  auto rows_starting = [&](const std::vector<std::string>& argv, const std::string& prefix) {
    int n = 0;
    for (const std::string& row : rows_of(c.cmd(kUser, argv).out)) n += row.rfind(prefix, 0) == 0;
    return n;
  };
  EXPECT_EQ(rows_starting({"qstat", "-u", kUser}, seq + "[]"), 1);  // one summary line
  EXPECT_EQ(rows_starting({"qstat", "-u", kUser}, seq + "["), 1);
  EXPECT_EQ(rows_starting({"qstat", "-t", "-u", kUser}, seq + "["), 3);  // the sub-jobs
  EXPECT_EQ(rows_starting({"qstat", "-t", "-u", kUser}, seq + "[2]"), 1);
  EXPECT_EQ(rows_starting({"qstat", "-t", "-u", kOther}, seq + "["), 0);
}

TEST_F(Qstat, UnknownQueueOrJobIsAnError) {
  Result q = c.cmd(kUser, {"qstat", "nosuchq"});
  EXPECT_NE(q.code, 0);
  EXPECT_EQ(q.err, "qstat: Unknown queue nosuchq\n");
  Result qq = c.cmd(kUser, {"qstat", "-Q", "nosuchq"});
  EXPECT_NE(qq.code, 0);
  EXPECT_EQ(qq.err, "qstat: Unknown queue nosuchq\n");
  Result qa = c.cmd(kUser, {"qstat", "-q", "nosuchq"});
  EXPECT_NE(qa.code, 0);
  EXPECT_EQ(qa.err, "qstat: Unknown queue nosuchq\n");
  std::string id = c.submit(kUser, "true\n", {"-h"});
  ASSERT_FALSE(id.empty());
  std::string missing = "98765." + c.attr(id, "server");
  Result j = c.cmd(kUser, {"qstat", "-x", missing});
  EXPECT_NE(j.code, 0);
  EXPECT_EQ(j.err, "qstat: Unknown Job Id " + missing + "\n");
  // A known queue still lists, and a known job with an unknown one prints the known one.
  EXPECT_EQ(c.cmd(kUser, {"qstat", "batch"}).code, 0);
  Result both = c.cmd(kUser, {"qstat", id, missing});
  EXPECT_NE(both.code, 0);
  EXPECT_NE(both.out.find(id.substr(0, id.find('.'))), std::string::npos);
}

TEST_F(Qstat, QueueSummaryTable) {
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set queue batch resources_max.walltime = 24:00:00"}).code, 0);
  for (int i = 0; i < 2; ++i) ASSERT_FALSE(c.submit(kUser, "true\n", {"-h"}).empty());
  Result r = c.cmd(kUser, {"qstat", "-q"});
  ASSERT_EQ(r.code, 0) << r.err;
  std::vector<std::string> rows = rows_of(r.out);
  ASSERT_GE(rows.size(), 7u) << r.out;
  EXPECT_EQ(rows[1].rfind("server: ", 0), 0u) << r.out;
  EXPECT_EQ(rows[3], "Queue            Memory CPU Time Walltime Node  Run Que Lm  State");
  EXPECT_EQ(rows[4], "---------------- ------ -------- -------- ----  --- --- --  -----");
  EXPECT_NE(r.out.find("\nbatch              --      --    24:00:00   --    0   2 --   E R\n"), std::string::npos) << r.out;
  EXPECT_EQ(rows[rows.size() - 2], "                                               ----- -----");
  EXPECT_EQ(rows.back(), "                                                   0     2");
  EXPECT_EQ(c.cmd(kUser, {"qstat", "-q", "-f"}).code, 2);
}

TEST_F(Qstat, XmlOutput) {
  std::string id = c.submit(kUser, "true\n", {"-h", "-N", "xmljob", "-l", "walltime=00:05:00"});
  ASSERT_FALSE(id.empty());
  Result r = c.cmd(kUser, {"qstat", "-x", id});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("<?xml version=\"1.0\"?>\n<Data><Job><Job_Id>" + id + "</Job_Id><Job_Name>xmljob</Job_Name>", 0), 0u)
      << r.out;
  EXPECT_NE(r.out.find("<job_state>H</job_state>"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("<walltime>00:05:00</walltime>"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.substr(r.out.size() - 14), "</Job></Data>\n");
  // All jobs, and a user with none gets an empty document.
  EXPECT_NE(c.cmd(kUser, {"qstat", "-x"}).out.find("<Job_Id>" + id + "</Job_Id>"), std::string::npos);
  EXPECT_EQ(c.cmd(kOther, {"qstat", "-x"}).out, "<?xml version=\"1.0\"?>\n<Data></Data>\n");
}

TEST_F(Qstat, CommentsSizesSrfsAndCompleted) {
  std::string id = c.submit(kUser, "true\n", {"-h", "-l", "mem=1gb"});
  ASSERT_FALSE(id.empty());
  // -s: the comment under the row (TORQUE's blank when there is none); the header shows the
  // server's comment.
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set server comment = hello"}).code, 0);
  Result s = c.cmd(kUser, {"qstat", "-s"});
  ASSERT_EQ(s.code, 0) << s.err;
  std::vector<std::string> rows = rows_of(s.out);
  ASSERT_EQ(rows.size(), 7u) << s.out;
  EXPECT_EQ(rows[1], c.attr(id, "server") + ": hello");
  std::string comment = c.attr(id, "comment");
  EXPECT_EQ(rows[6], "   " + (comment.empty() ? std::string(" -- ") : comment)) << s.out;
  EXPECT_NE(c.cmd(kUser, {"qstat", "-G"}).out.find("    1gb "), std::string::npos);
  EXPECT_NE(c.cmd(kUser, {"qstat", "-M"}).out.find("  128mw "), std::string::npos);
  EXPECT_NE(c.cmd(kUser, {"qstat", "-R"}).out.find("BIG  FAST   PFS"), std::string::npos);
  Result gm = c.cmd(kUser, {"qstat", "-G", "-M"});
  EXPECT_EQ(gm.code, 2);
  EXPECT_EQ(std::count(gm.err.begin(), gm.err.end(), '\n'), 1) << gm.err;
  EXPECT_EQ(c.cmd(kUser, {"qstat", "-a", "-r"}).code, 2);
  EXPECT_EQ(c.cmd(kUser, {"qstat", "-f", "-a"}).code, 2);
  // -c (and PBS_QSTAT_NO_COMPLETE) leave completed jobs out; -l is accepted.
  std::string done = c.submit(kUser, "true\n");
  ASSERT_TRUE(c.wait_state(done, "C", 30));
  std::string seq = done.substr(0, done.find('.'));
  EXPECT_NE(c.cmd(kUser, {"qstat"}).out.find(seq + "."), std::string::npos);
  EXPECT_EQ(c.cmd(kUser, {"qstat", "-c"}).out.find(seq + "."), std::string::npos);
  EXPECT_EQ(c.cmd(kUser, {"qstat", "-c", "-a"}).out.find(seq + "."), std::string::npos);
  EXPECT_NE(c.cmd(kUser, {"qstat", "-c"}).out.find(id.substr(0, id.find('.')) + "."), std::string::npos);
  EXPECT_EQ(c.cmd(kUser, {"qstat", "-l"}).code, 0);
  Result v = c.cmd(kUser, {"qstat", "--version"});
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.err.rfind("Version: ", 0), 0u) << v.err;
  EXPECT_EQ(c.cmd(kUser, {"qstat", "--nosuch"}).code, 2);
}

TEST_F(Qstat, RunningJobsShowResourcesUsedFromTheMom) {
  // The mom reports usage with its node status: every second here (TORQUE's default is 45 s).
  c.kill_mom(SIGTERM);
  std::ofstream(c.home() + "/mom_priv/config", std::ios::app) << "$status_update_time 1\n";
  ASSERT_TRUE(c.start_mom());
  ASSERT_TRUE(wait_for([&] { return c.cmd("", {"pbsnodes", "-a"}).out.find("state = free") != std::string::npos; }, 20s));
  std::string id = c.submit(kUser, "sleep 60\n");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "R", 30));
  auto used = [&](const std::string& r) { return full_attr(c.cmd(kUser, {"qstat", "-f", id}).out, "resources_used." + r); };
  ASSERT_TRUE(wait_for([&] { return used("walltime") >= "00:00:01"; }, 30s)) << c.cmd(kUser, {"qstat", "-f", id}).out;
  std::string first = used("walltime");
  EXPECT_FALSE(used("cput").empty());
  EXPECT_NE(used("mem").find("kb"), std::string::npos) << used("mem");
  EXPECT_NE(used("vmem").find("kb"), std::string::npos) << used("vmem");
  // Refreshed while it runs: walltime grows.
  EXPECT_TRUE(wait_for([&] { return used("walltime") > first; }, 30s)) << first;
  // The alternative table shows the elapsed time of the running job.
  Result a = c.cmd(kUser, {"qstat", "-a", id});
  EXPECT_NE(a.out.find(" R  00:00:"), std::string::npos) << a.out;
  c.cmd("", {"qdel", id});
}

}  // namespace
