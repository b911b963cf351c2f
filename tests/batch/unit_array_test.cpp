// Job arrays: qsub -t grammar, sub-job ids, and the sub-job rows stored as deltas.
#include <gtest/gtest.h>

#include "common/array_range.h"
#include "common/names.h"
#include "server/job_array.h"

using namespace reprise;
using namespace reprise::server;

TEST(ArrayRange, RangesListsAndSlotLimits) {
  ArrayRequest r;
  std::string error;
  ASSERT_TRUE(parse_array_request("0-3", r, error)) << error;
  EXPECT_EQ(r.indices, (std::vector<long>{0, 1, 2, 3}));
  EXPECT_EQ(r.slot_limit, 0);
  ASSERT_TRUE(parse_array_request("1,5,7", r, error));
  EXPECT_EQ(r.indices, (std::vector<long>{1, 5, 7}));
  ASSERT_TRUE(parse_array_request("1-100%5", r, error));
  EXPECT_EQ(r.indices.size(), 100u);
  EXPECT_EQ(r.slot_limit, 5);
  ASSERT_TRUE(parse_array_request("7,1-3,2", r, error));
  EXPECT_EQ(r.indices, (std::vector<long>{1, 2, 3, 7})) << "sorted, duplicates once";
  ASSERT_TRUE(parse_array_request("42", r, error));
  EXPECT_EQ(r.indices, (std::vector<long>{42}));
}

TEST(ArrayRange, RefusesBadRequestsWithOneLine) {
  ArrayRequest r;
  std::string error;
  for (const char* bad : {"", "a", "3-1", "1-", "-3", "1,,2", "1-5%0", "1-5%", "1-5%x", "1:2", "1-10:2",
                          "1-2000000", "999999999999"}) {
    error.clear();
    EXPECT_FALSE(parse_array_request(bad, r, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
    EXPECT_EQ(error.find('\n'), std::string::npos);
  }
  std::vector<long> v;
  EXPECT_FALSE(parse_array_range("1-3%2", v, error)) << "a range for qdel -t has no slot limit";
}

TEST(ArrayRange, FormatsCompactly) {
  EXPECT_EQ(format_array_range({1, 2, 3, 7, 9, 10}), "1-3,7,9-10");
  EXPECT_EQ(format_array_range({0}), "0");
  EXPECT_EQ(format_array_range({}), "");
}

TEST(ArrayIds, GrammarAllowsIndexAndEmptyBrackets) {
  EXPECT_TRUE(valid_job_id("5[3].host"));
  EXPECT_TRUE(valid_job_id("5[].host"));
  EXPECT_FALSE(valid_job_id("5[3.host"));
  EXPECT_FALSE(valid_job_id("5[../x].host"));
  EXPECT_FALSE(valid_job_id("5[3]x.host"));
  EXPECT_FALSE(valid_job_id("5[3]/../.host"));
}

TEST(ArrayKeys, SubJobsSortWithTheirArrayInFifoOrder) {
  FifoOrder less;
  long sub = subjob_key(5, 1);
  EXPECT_TRUE(is_subjob_key(sub));
  EXPECT_EQ(base_seq(sub), 5);
  EXPECT_TRUE(less(4, sub));
  EXPECT_TRUE(less(sub, 6)) << "a later plain job comes after the array's sub-jobs";
  EXPECT_TRUE(less(subjob_key(5, 1), subjob_key(5, 2)));
  EXPECT_FALSE(is_subjob_key(6));
}

TEST(ArrayRows, DeltaRoundTripsAndNeverCarriesTheParentsOwnState) {
  Attrs parent = {{"Job_Name", "arr"}, {"queue", "batch"}, {"Variable_List", "PBS_O_HOME=/h"},
                  {"job_state", "R"}, {"job_array_request", "1-3"}, {"_array", "1"}, {"Account_Name", "x"}};
  Attrs sub = {{"Job_Name", "arr-2"}, {"queue", "batch"}, {"Variable_List", "PBS_O_HOME=/h"},
               {"job_state", "Q"}, {"job_array_id", "2"}, {"queue_rank", "9"}};
  Attrs delta = subjob_delta(parent, sub);
  EXPECT_FALSE(delta.count("Variable_List")) << "shared attributes live in the parent's row only";
  EXPECT_EQ(delta.at("job_state"), "Q");
  EXPECT_EQ(subjob_attrs(parent, delta), sub) << "Account_Name was unset on the sub-job";
  // A later change of the parent's state or comment must not leak into the sub-job.
  parent["job_state"] = "C";
  parent["comment"] = "parent";
  EXPECT_EQ(subjob_attrs(parent, delta), sub);
}
