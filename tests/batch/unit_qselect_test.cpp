// qselect's criteria (src/client/qselect_filter.*).
#include <gtest/gtest.h>

#include "client/qselect_filter.h"

using namespace reprise::client;

namespace {

std::map<std::string, std::string> job(std::map<std::string, std::string> a) {
  a.emplace("job_state", "Q");
  a.emplace("euser", "alice");
  a.emplace("Job_Owner", "alice@login1");
  return a;
}

SelectCriteria criteria(std::vector<std::pair<char, std::string>> options) {
  SelectCriteria c;
  std::string error;
  for (auto& [o, v] : options) EXPECT_TRUE(add_select_option(o, v, c, error)) << o << " " << v << ": " << error;
  return c;
}

TEST(Qselect, ResourceRelationsCompareByKind) {
  auto j = job({{"Resource_List.walltime", "01:00:00"}, {"Resource_List.mem", "2gb"}, {"Resource_List.nodes", "2"}});
  EXPECT_TRUE(job_selected(criteria({{'l', "walltime.gt.00:59:59"}}), j));
  EXPECT_FALSE(job_selected(criteria({{'l', "walltime.lt.01:00:00"}}), j));
  EXPECT_TRUE(job_selected(criteria({{'l', "walltime.le.01:00:00"}}), j));
  EXPECT_TRUE(job_selected(criteria({{'l', "mem.gt.1024mb"}}), j));
  EXPECT_FALSE(job_selected(criteria({{'l', "mem.ne.2gb"}}), j));
  EXPECT_TRUE(job_selected(criteria({{'l', "nodes.ge.2,mem.eq.2gb"}}), j));
  EXPECT_FALSE(job_selected(criteria({{'l', "pmem.gt.1"}}), j)) << "an unset resource does not match";
}

TEST(Qselect, UsersStatesHoldsAndPriority) {
  auto j = job({{"Hold_Types", "uo"}, {"job_state", "H"}, {"Priority", "-5"}});
  EXPECT_TRUE(job_selected(criteria({{'u', "bob,alice"}}), j));
  EXPECT_TRUE(job_selected(criteria({{'u', "alice@login1"}}), j));
  EXPECT_FALSE(job_selected(criteria({{'u', "alice@login2"}}), j));
  EXPECT_TRUE(job_selected(criteria({{'s', "QH"}}), j));
  EXPECT_FALSE(job_selected(criteria({{'s', "R"}}), j));
  EXPECT_TRUE(job_selected(criteria({{'h', "ou"}}), j));
  EXPECT_FALSE(job_selected(criteria({{'h', "u"}}), j));
  EXPECT_TRUE(job_selected(criteria({{'p', ".lt.0"}}), j));
  EXPECT_FALSE(job_selected(criteria({{'p', "-4"}}), j));
}

TEST(Qselect, ExecutionTimeUsesTouchFormat) {
  long epoch = 0;
  ASSERT_TRUE(parse_touch_time("203001021530.45", epoch));
  long earlier = 0;
  ASSERT_TRUE(parse_touch_time("3001021529", earlier));
  EXPECT_EQ(epoch - earlier, 105);
  auto j = job({{"Execution_Time", std::to_string(epoch)}});
  EXPECT_TRUE(job_selected(criteria({{'a', ".gt.203001021530"}}), j));
  EXPECT_FALSE(job_selected(criteria({{'a', ".lt.203001021530"}}), j));
  EXPECT_FALSE(parse_touch_time("20301302", epoch));  // month 13
  EXPECT_FALSE(parse_touch_time("1530", epoch));
}

TEST(Qselect, BadOptionsSayWhatIsWrong) {
  SelectCriteria c;
  std::string error;
  EXPECT_FALSE(add_select_option('l', "walltime=1:00:00", c, error));
  EXPECT_NE(error.find("use RESOURCE.op.VALUE"), std::string::npos) << error;
  EXPECT_FALSE(add_select_option('r', "maybe", c, error));
  EXPECT_FALSE(add_select_option('h', "nu", c, error));
  EXPECT_FALSE(add_select_option('p', ".gt.high", c, error));
  EXPECT_FALSE(add_select_option('a', "tomorrow", c, error));
}

}  // namespace
