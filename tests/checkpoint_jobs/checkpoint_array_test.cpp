// A checkpointable job array (qsub -c enabled -t): each sub-job is checkpointed, held and
// restarted on its own while its sibling keeps running (issue 13, item 1).
#include "ck_fixture.h"

namespace reprise::test::ck {
namespace {

TEST_F(CkJobs, ArraySubJobsAreCheckpointedEachOnItsOwn) {
  std::string id = submit_counting({"-c", "enabled", "-t", "1-2"}, 40, 150);
  ASSERT_FALSE(id.empty());
  std::string seq = id.substr(0, id.find('[')), host = id.substr(id.find('.'));
  std::string one = seq + "[1]" + host, two = seq + "[2]" + host;
  std::string out1 = work_ + "/ck.o" + seq + "-1", out2 = work_ + "/ck.o" + seq + "-2";
  ASSERT_TRUE(c.wait_state(one, "R", 30)) << why(one);
  ASSERT_TRUE(c.wait_state(two, "R", 30)) << why(two);
  ASSERT_TRUE(wait_for([&] { return count_lines(out1) >= 6; }, 30s)) << why(one);
  // qhold -t 1: only that sub-job is checkpointed and stopped.
  Result hold = c.cmd(kUser, {"qhold", "-t", "1", id});
  ASSERT_EQ(hold.code, 0) << hold.err;
  ASSERT_TRUE(c.wait_state(one, "H", 60)) << why(one);
  EXPECT_FALSE(c.attr(one, "checkpoint_name").empty()) << why(one);
  EXPECT_EQ(c.attr(two, "checkpoint_name"), "") << "the sibling has no image of its own";
  EXPECT_NE(c.attr(two, "job_state"), "H");
  EXPECT_NE(ck_dir(one).find(seq + "[1]"), std::string::npos) << ck_dir(one);
  size_t at_hold = count_lines(out1);
  ASSERT_EQ(c.cmd(kUser, {"qrls", one}).code, 0);
  ASSERT_TRUE(c.wait_state(id, "C", 90)) << why(one) << why(two);
  EXPECT_EQ(c.attr(one, "exit_status"), "0") << why(one);
  EXPECT_EQ(c.attr(two, "exit_status"), "0") << why(two);
  EXPECT_GE(at_hold, 6u);
  EXPECT_NE(mom_log().find("job " + one + " restarts from its image"), std::string::npos) << why(one);
  EXPECT_EQ(mom_log().find("job " + two + " restarts from its image"), std::string::npos);
  EXPECT_EQ(slurp(out1), expected_counts(40)) << "restarted from its image: every line once";
  EXPECT_EQ(slurp(out2), expected_counts(40));
}

}  // namespace
}  // namespace reprise::test::ck
