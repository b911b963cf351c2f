// Job arrays (qsub -t) with real daemons and a real user: PBS_ARRAYID, sub-job ids and output
// files, qstat with and without -t, whole-array and range operations, slot limits,
// dependencies on arrays, and arrays surviving a server restart.
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>

#include <sstream>
#include <thread>

#include "harness.h"

using namespace reprise::test;
using namespace std::chrono_literals;

namespace {

const char* kUser = "reprise_u1";

// "12[].host" -> "12".
std::string seq_of_array(const std::string& id) { return id.substr(0, id.find_first_not_of("0123456789")); }

class Arrays : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_user(kUser);
    ASSERT_TRUE(c.ok()) << c.why();
  }
  // Lines of `qstat -t ID` whose id starts with SEQ[ (one per sub-job).
  std::vector<std::string> sub_lines(const std::string& array) {
    Result r = c.cmd(kUser, {bin("qstat"), "-t", array});
    std::vector<std::string> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);)
      if (line.rfind(seq_of_array(array) + "[", 0) == 0) out.push_back(line);
    return out;
  }
  Cluster c;
};

// In the style of the array scripts HPC centres publish: one input per index.
const char* kArrayScript =
    "#!/bin/bash\n"
    "#PBS -N sweep\n"
    "#PBS -l walltime=00:05:00\n"
    "#PBS -t 0-3\n"
    "cd $PBS_O_WORKDIR\n"
    "INPUT=input.$PBS_ARRAYID\n"
    "echo \"index=$PBS_ARRAYID job=$PBS_JOBID name=$PBS_JOBNAME user=$(id -un)\"\n"
    "echo \"input $INPUT\"\n";

TEST_F(Arrays, EachIndexRunsAsOwnerWithArrayIdAndOwnOutputFiles) {
  std::string id = c.submit(kUser, kArrayScript);
  ASSERT_FALSE(id.empty());
  std::string seq = seq_of_array(id);
  EXPECT_EQ(id.substr(0, seq.size() + 3), seq + "[].") << id;
  ASSERT_TRUE(c.wait_state(id, "C", 60)) << c.cmd("", {bin("qstat"), "-t"}).out;
  std::string dir = c.workdir(kUser);
  for (int i = 0; i < 4; ++i) {
    std::string idx = std::to_string(i);
    std::string sub = seq + "[" + idx + "]" + id.substr(id.find('.'));
    std::string path = dir + "/sweep.o" + seq + "-" + idx;
    std::string out = slurp(path);
    EXPECT_NE(out.find("index=" + idx + " job=" + sub + " name=sweep-" + idx + " user=" + kUser), std::string::npos)
        << path << ": " << out;
    EXPECT_NE(out.find("input input." + idx), std::string::npos);
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, getpwnam(kUser)->pw_uid);
    EXPECT_EQ(c.attr(sub, "exit_status"), "0");
    EXPECT_EQ(c.attr(sub, "job_array_id"), idx);
  }
  EXPECT_EQ(c.attr(id, "job_array_request"), "0-3");
  EXPECT_EQ(c.attr(id, "array_state_count"), "Queued:0 Held:0 Running:0 Complete:4");
}

TEST_F(Arrays, QstatShowsOneSummaryLineAndSubJobsWithT) {
  std::string id = c.submit(kUser, "sleep 1\n", {"-h", "-t", "1-5"});
  ASSERT_FALSE(id.empty());
  std::string seq = seq_of_array(id);
  Result plain = c.cmd(kUser, {bin("qstat")});
  EXPECT_NE(plain.out.find(seq + "[]"), std::string::npos) << plain.out;
  EXPECT_EQ(plain.out.find(seq + "[1]"), std::string::npos) << "without -t one line per array\n" << plain.out;
  Result t = c.cmd(kUser, {bin("qstat"), "-t"});
  for (int i = 1; i <= 5; ++i) EXPECT_NE(t.out.find(seq + "[" + std::to_string(i) + "]"), std::string::npos) << t.out;
  EXPECT_EQ(t.out.find(seq + "[]"), std::string::npos) << t.out;
  EXPECT_EQ(sub_lines(id).size(), 5u);
  Result one = c.cmd(kUser, {bin("qstat"), seq + "[3]"});
  EXPECT_EQ(one.code, 0) << one.err;
  EXPECT_NE(one.out.find(seq + "[3]"), std::string::npos);
  Result missing = c.cmd(kUser, {bin("qstat"), seq + "[9]"});
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.err.find("Unknown Job Id"), std::string::npos) << missing.err;
  // Bad -t values are refused by qsub with one line, nothing submitted.
  Result bad = c.cmd(kUser, {bin("qsub"), "-t", "5-1"}, c.workdir(kUser), "true\n");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("illegal -t value"), std::string::npos) << bad.err;
}

TEST_F(Arrays, HoldReleaseDeleteAndAlterOnWholeArrayIndexOrRange) {
  std::string id = c.submit(kUser, "sleep 60\n", {"-h", "-t", "1-6"});
  ASSERT_FALSE(id.empty());
  std::string seq = seq_of_array(id), host = id.substr(id.find('.'));
  auto sub = [&](int i) { return seq + "[" + std::to_string(i) + "]" + host; };
  for (int i = 1; i <= 6; ++i) EXPECT_EQ(c.attr(sub(i), "job_state"), "H");
  // qalter of the whole array, then of one range.
  EXPECT_EQ(c.cmd(kUser, {bin("qalter"), "-N", "renamed", seq + "[]"}).code, 0);
  EXPECT_EQ(c.attr(sub(6), "Job_Name"), "renamed");
  Result alter = c.cmd(kUser, {bin("qalter"), "-t", "5-6", "-p", "7", id});
  EXPECT_EQ(alter.code, 0) << alter.err;
  EXPECT_EQ(c.attr(sub(5), "Priority"), "7");
  EXPECT_EQ(c.attr(sub(4), "Priority"), "0");
  // qdel of one index, qdel -t of a range.
  EXPECT_EQ(c.cmd(kUser, {bin("qdel"), sub(1)}).code, 0);
  EXPECT_EQ(c.attr(sub(1), "job_state"), "C");
  Result del = c.cmd(kUser, {bin("qdel"), "-t", "5-6", seq});
  EXPECT_EQ(del.code, 0) << del.err;
  EXPECT_EQ(c.attr(sub(5), "job_state"), "C");
  EXPECT_EQ(c.attr(sub(6), "job_state"), "C");
  EXPECT_EQ(c.attr(sub(2), "job_state"), "H");
  // qrls -t of one index runs exactly that one.
  Result rls = c.cmd(kUser, {bin("qrls"), "-t", "2", id});
  EXPECT_EQ(rls.code, 0) << rls.err;
  EXPECT_TRUE(c.wait_state(sub(2), "R"));
  EXPECT_EQ(c.attr(sub(3), "job_state"), "H");
  EXPECT_EQ(c.attr(id, "job_state"), "R") << "an array runs while any sub-job runs";
  // qhold of the whole array holds what is left; a range naming a missing index is refused.
  Result missing = c.cmd(kUser, {bin("qhold"), "-t", "7", id});
  EXPECT_NE(missing.code, 0);
  EXPECT_NE(missing.err.find("Unknown Job Id"), std::string::npos) << missing.err;
  // Another user may not touch the array.
  ensure_user("reprise_u2");
  Result other = c.cmd("reprise_u2", {bin("qdel"), id});
  EXPECT_NE(other.code, 0);
  EXPECT_NE(other.err.find("Unauthorized"), std::string::npos) << other.err;
  // qdel of the whole array ends every sub-job that is left.
  EXPECT_EQ(c.cmd(kUser, {bin("qdel"), id}).code, 0);
  EXPECT_TRUE(c.wait_state(id, "C", 30));
  for (int i = 1; i <= 6; ++i) EXPECT_EQ(c.attr(sub(i), "job_state"), "C") << i;
}

TEST_F(Arrays, SlotLimitBoundsRunningSubJobs) {
  std::string id = c.submit(kUser, "sleep 2\n", {"-t", "1-3%1"});
  ASSERT_FALSE(id.empty());
  int most = 0;
  ASSERT_TRUE(wait_for([&] {
    int running = 0;
    for (const std::string& line : sub_lines(id))
      if (line.find(" R ") != std::string::npos) ++running;
    most = std::max(most, running);
    return c.attr(id, "job_state") == "C";
  }, 60s));
  EXPECT_EQ(most, 1) << "%1: one sub-job at a time";
}

TEST_F(Arrays, DependenciesOnArrays) {
  std::string ok = c.submit(kUser, "exit 0\n", {"-h", "-t", "1-2"});
  std::string bad = c.submit(kUser, "exit $PBS_ARRAYID\n", {"-h", "-t", "0-1"});
  ASSERT_FALSE(ok.empty());
  ASSERT_FALSE(bad.empty());
  std::string after_ok = c.submit(kUser, "true\n", {"-W", "depend=afterokarray:" + ok});
  std::string after_bad = c.submit(kUser, "true\n", {"-W", "depend=afterokarray:" + bad});
  std::string notok = c.submit(kUser, "true\n", {"-W", "depend=afternotokarray:" + bad});
  std::string any = c.submit(kUser, "true\n", {"-W", "depend=afteranyarray:" + bad});
  for (const auto& j : {after_ok, after_bad, notok, any}) {
    ASSERT_FALSE(j.empty());
    EXPECT_EQ(c.attr(j, "job_state"), "H") << j;
  }
  Result plain = c.cmd(kUser, {bin("qsub"), "-W", "depend=afterokarray:" + seq_of(after_ok)}, c.workdir(kUser), "true\n");
  EXPECT_NE(plain.code, 0) << "afterokarray needs an array";
  EXPECT_EQ(c.cmd(kUser, {bin("qrls"), ok}).code, 0);
  EXPECT_EQ(c.cmd(kUser, {bin("qrls"), bad}).code, 0);
  EXPECT_TRUE(c.wait_state(after_ok, "C", 60));
  EXPECT_EQ(c.attr(after_ok, "exit_status"), "0");
  EXPECT_TRUE(c.wait_state(notok, "C", 60));
  EXPECT_EQ(c.attr(notok, "exit_status"), "0") << "one sub-job failed: afternotokarray runs";
  EXPECT_TRUE(c.wait_state(any, "C", 60));
  EXPECT_EQ(c.attr(any, "exit_status"), "0");
  EXPECT_TRUE(c.wait_state(after_bad, "C", 60));
  EXPECT_EQ(c.attr(after_bad, "exit_status"), "271") << "afterokarray of a failed array can never run";
}

TEST_F(Arrays, SurviveAServerRestart) {
  std::string id = c.submit(kUser, "echo $PBS_ARRAYID\n", {"-h", "-N", "keep", "-t", "3,5,8%2"});
  ASSERT_FALSE(id.empty());
  std::string seq = seq_of_array(id), host = id.substr(id.find('.'));
  EXPECT_EQ(c.cmd(kUser, {bin("qrls"), "-t", "5", id}).code, 0);
  ASSERT_TRUE(c.wait_state(seq + "[5]" + host, "C", 30));
  c.kill_server(SIGKILL);
  ASSERT_TRUE(c.start_server(false));
  EXPECT_EQ(sub_lines(id).size(), 3u);
  EXPECT_EQ(c.attr(seq + "[3]" + host, "job_state"), "H");
  EXPECT_EQ(c.attr(seq + "[8]" + host, "Job_Name"), "keep-8");
  EXPECT_EQ(c.attr(seq + "[5]" + host, "exit_status"), "0");
  EXPECT_EQ(c.attr(id, "array_state_count"), "Queued:0 Held:2 Running:0 Complete:1");
  EXPECT_EQ(c.cmd(kUser, {bin("qrls"), id}).code, 0);
  ASSERT_TRUE(c.wait_state(id, "C", 60));
  EXPECT_NE(slurp(c.workdir(kUser) + "/keep.o" + seq + "-8").find("8"), std::string::npos);
  // The next plain job takes the next number, not one per sub-job.
  std::string next = c.submit(kUser, "true\n");
  EXPECT_EQ(seq_of(next), std::to_string(std::stol(seq) + 1));
}

}  // namespace
