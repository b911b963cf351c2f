// qstat's alternative table, queue summary and XML, byte for byte as TORQUE 6 prints them.
#include <gtest/gtest.h>

#include <map>

#include "client/qstat_format.h"

using namespace reprise;
using namespace reprise::client;

namespace {

wire::Object obj(const std::string& name, const std::map<std::string, std::string>& attrs) {
  wire::Object o;
  o.set_name(name);
  for (const auto& [k, v] : attrs) (*o.mutable_attrs())[k] = v;
  return o;
}

const char* kAltHeader =
    "\nhost: \n"
    "                                                                                  Req'd       Req'd       Elap\n"
    "Job ID                  Username    Queue    Jobname          SessID  NDS   TSK   Memory      Time    S   Time\n"
    "----------------------- ----------- -------- ---------------- ------ ----- ------ --------- --------- - ---------\n";

TEST(QstatAlt, RowsAsTorquePrintsThem) {
  Objects jobs = {obj("12.host", {{"Job_Owner", "alice@sub"}, {"queue", "batch"}, {"Job_Name", "a_very_long_job_name"},
                                  {"job_state", "R"}, {"session_id", "4242"}, {"Resource_List.nodes", "2:ppn=4+1"},
                                  {"Resource_List.nodect", "3"}, {"Resource_List.mem", "1gb"},
                                  {"Resource_List.walltime", "01:00:00"}, {"resources_used.walltime", "00:00:07"}}),
                  obj("13.host", {{"Job_Owner", "bob@sub"}, {"queue", "batch"}, {"Job_Name", "q"}, {"job_state", "Q"}})};
  std::string out = format_job_alt(jobs, "host", "", {});
  EXPECT_EQ(out, std::string(kAltHeader) +
                     "12.host                 alice       batch    a_very_long_job_   4242     3      9       1gb  01:00:00 R  00:00:07\n"
                     "13.host                 bob         batch    q                   --    --     --        --        --  Q       -- \n");
}

TEST(QstatAlt, CputRequestShowsCpuTimes) {
  Objects jobs = {obj("1.h", {{"Job_Owner", "a@h"}, {"job_state", "R"}, {"Resource_List.cput", "00:10:00"},
                              {"Resource_List.walltime", "01:00:00"}, {"resources_used.cput", "00:00:03"}})};
  std::string out = format_job_alt(jobs, "h", "", {});
  EXPECT_NE(out.find(" 00:10:00 R  00:00:03\n"), std::string::npos) << out;
}

TEST(QstatAlt, NodesCommentAndOneLine) {
  Objects jobs = {obj("1.h", {{"Job_Owner", "a@h"}, {"job_state", "R"}, {"exec_host", "n1/0+n1/1"}, {"comment", "why"}})};
  AltOptions o;
  o.nodes = o.comment = true;
  std::string out = format_job_alt(jobs, "h", "up", o);
  EXPECT_EQ(out.rfind("\nh: up\n", 0), 0u) << out;
  EXPECT_NE(out.find("\n   n1/0+n1/1\n   why\n"), std::string::npos) << out;
  o.one_line = true;
  o.comment = false;
  out = format_job_alt(jobs, "h", "", o);
  EXPECT_NE(out.find(" R  00:00:00   n1/0+n1/1\n"), std::string::npos) << out;
  Objects none = {obj("2.h", {{"Job_Owner", "a@h"}, {"job_state", "Q"}})};
  o = {};
  o.nodes = o.comment = true;
  EXPECT_NE(format_job_alt(none, "h", "", o).find("Q       -- \n    -- \n    -- \n"), std::string::npos);
}

TEST(QstatAlt, ExecHostsLoseDomainsAndWrap) {
  EXPECT_EQ(format_exec_hosts("n1.example.com/0+n2.example.com/1", false), "   n1+n2\n");
  std::string many;
  for (int i = 0; i < 20; ++i) many += (i ? "+" : "") + std::string("node") + std::to_string(i) + "/0";
  std::string out = format_exec_hosts(many, false);
  EXPECT_EQ(out.find('\n'), 3u + 71u) << out;  // cut before the piece that would reach 77 columns
  EXPECT_EQ(out.substr(out.find('\n') + 1, 4), "   +");
  EXPECT_EQ(format_exec_hosts(many, true), "   " + many + "\n");
}

TEST(QstatAlt, SrfsLayout) {
  Objects jobs = {obj("1.h", {{"Job_Owner", "a@h"}, {"queue", "batch"}, {"job_state", "Q"},
                              {"Resource_List.mem", "2gb"}})};
  AltOptions o;
  o.srfs = true;
  std::string out = format_job_alt(jobs, "h", "", o);
  EXPECT_NE(out.find("\nJob ID                  Username    Queue    NDS   TSK    Memory    Time      S Time       BIG  FAST   PFS\n"
                     "----   ---------------- ----------- -------- ----- ------ --------- --------- - --------- ----- ----- -----\n"),
            std::string::npos) << out;
  EXPECT_NE(out.find("1.h                     a           batch      --     --        2gb       --  Q       --    --    --    -- \n"),
            std::string::npos) << out;
}

TEST(QstatAlt, SizesInMegawordsAndGigabytes) {
  EXPECT_EQ(convert_size("1gb", SizeUnit::kGb), "1gb");
  EXPECT_EQ(convert_size("1gb", SizeUnit::kMw), "128mw");
  EXPECT_EQ(convert_size("512mb", SizeUnit::kGb), "1gb");  // rounded up
  EXPECT_EQ(convert_size("1025mb", SizeUnit::kGb), "2gb");
  EXPECT_EQ(convert_size("8kw", SizeUnit::kMw), "1mw");
  EXPECT_EQ(convert_size("2tb", SizeUnit::kGb), "2048gb");
  EXPECT_EQ(convert_size("1gb", SizeUnit::kAsIs), "1gb");
}

TEST(QstatQueueAlt, TorqueSummaryTable) {
  Objects qs = {obj("batch", {{"enabled", "True"}, {"started", "True"}, {"resources_max.walltime", "24:00:00"},
                              {"state_count", "Transit:0 Queued:2 Held:1 Waiting:0 Running:3 Exiting:0 Complete:4"}}),
                obj("long", {{"enabled", "False"}, {"started", "True"}, {"max_running", "5"}, {"resources_max.mem", "2gb"},
                             {"state_count", "Transit:0 Queued:1 Held:0 Waiting:0 Running:0 Exiting:0 Complete:0"}})};
  EXPECT_EQ(format_queue_alt(qs, "srv", SizeUnit::kAsIs),
            "\nserver: srv\n\n"
            "Queue            Memory CPU Time Walltime Node  Run Que Lm  State\n"
            "---------------- ------ -------- -------- ----  --- --- --  -----\n"
            "batch              --      --    24:00:00   --    3   3 --   E R\n"
            "long                2gb    --       --      --    0   1  5   D R\n"
            "                                               ----- -----\n"
            "                                                   3     4\n");
  EXPECT_NE(format_queue_alt(qs, "srv", SizeUnit::kGb).find("long                2gb"), std::string::npos);
}

TEST(QstatXml, DataJobElements) {
  Objects jobs = {obj("7.h", {{"Job_Name", "a<b&c"}, {"job_state", "Q"}, {"Resource_List.mem", "1gb"},
                              {"Resource_List.walltime", "00:01:00"}, {"ctime", "1700000000"}})};
  EXPECT_EQ(format_xml(jobs),
            "<?xml version=\"1.0\"?>\n<Data><Job><Job_Id>7.h</Job_Id><Job_Name>a&lt;b&amp;c</Job_Name>"
            "<job_state>Q</job_state><ctime>1700000000</ctime><Resource_List><mem>1gb</mem>"
            "<walltime>00:01:00</walltime></Resource_List></Job></Data>\n");
  EXPECT_EQ(format_xml({}), "<?xml version=\"1.0\"?>\n<Data></Data>\n");
}

TEST(QstatUsers, OwnerInList) {
  EXPECT_TRUE(owner_in("alice@h1", {"bob", "alice"}));
  EXPECT_TRUE(owner_in("alice@h1", {"alice@h1"}));
  EXPECT_FALSE(owner_in("alice@h1", {"alice@h2"}));
  EXPECT_FALSE(owner_in("alice@h1", {"ali"}));
}

}  // namespace
