// qsub's TORQUE options (issue 13 item 3): -m, -F, -f, -b, -D, -w, -P, -W umask/group_list/x,
// and -a's [[[[CC]YY]MM]DD]hhmm[.SS] dates.
#include <gtest/gtest.h>

#include <ctime>

#include "client/exec_time.h"
#include "client/submit_options.h"
#include "common/names.h"

using namespace reprise;

namespace {

bool submit(const std::vector<std::string>& args, client::Submission& s, std::string& e) {
  std::vector<std::string> argv{"qsub"};
  argv.insert(argv.end(), args.begin(), args.end());
  return client::apply_submit_options(argv, "/work", s, e);
}

std::time_t local(int year, int mon, int mday, int hour, int min, int sec = 0) {
  std::tm t{};
  t.tm_year = year - 1900;
  t.tm_mon = mon - 1;
  t.tm_mday = mday;
  t.tm_hour = hour;
  t.tm_min = min;
  t.tm_sec = sec;
  t.tm_isdst = -1;
  return std::mktime(&t);
}

}  // namespace

TEST(QsubOptions, MailPoints) {
  for (const char* ok : {"a", "b", "e", "f", "abe", "bea", "abef", "n", "p"}) {
    client::Submission s;
    std::string e;
    EXPECT_TRUE(submit({"-m", ok}, s, e)) << ok << ": " << e;
    EXPECT_EQ(s.attrs["Mail_Points"], ok);
  }
  for (const char* bad : {"x", "an", "np", "", "abz", "ABE"}) {
    client::Submission s;
    std::string e;
    EXPECT_FALSE(submit({"-m", bad}, s, e)) << bad;
    EXPECT_NE(e.find("illegal -m value"), std::string::npos) << e;
  }
}

TEST(QsubOptions, ScriptArgumentsFaultTolerantRetryAndWorkdir) {
  client::Submission s;
  std::string e;
  ASSERT_TRUE(submit({"-F", "one 'two words' 3", "-f", "-b", "30", "-w", "sub/dir"}, s, e)) << e;
  EXPECT_EQ(s.attrs["job_arguments"], "one 'two words' 3");
  EXPECT_EQ(s.attrs["fault_tolerant"], "True");
  EXPECT_EQ(s.attrs["init_work_dir"], "/work/sub/dir");
  client::Submission bad;
  EXPECT_FALSE(submit({"-F", "'unbalanced"}, bad, e));
  EXPECT_NE(e.find("illegal -F value"), std::string::npos) << e;
  EXPECT_FALSE(submit({"-b", "soon"}, bad, e));
  EXPECT_NE(e.find("illegal -b value"), std::string::npos) << e;
  EXPECT_FALSE(submit({"-D", "/chroot"}, bad, e));
  EXPECT_EQ(e, "-D (root directory of the job) is not supported");
}

TEST(QsubOptions, ProxyUserAndAdditionalAttributes) {
  client::Submission s;
  std::string e;
  ASSERT_TRUE(submit({"-P", "alice:staff", "-W", "umask=027", "-W", "x=NACCESSPOLICY:SINGLEJOB"}, s, e)) << e;
  EXPECT_EQ(s.attrs["proxy_user"], "alice");
  EXPECT_EQ(s.attrs["group_list"], "staff");
  EXPECT_EQ(s.attrs["umask"], "027");
  EXPECT_EQ(s.attrs["x"], "NACCESSPOLICY:SINGLEJOB");
  client::Submission g;
  ASSERT_TRUE(submit({"-W", "group_list=wheel@host1"}, g, e)) << e;
  EXPECT_EQ(g.attrs["group_list"], "wheel");
  client::Submission bad;
  EXPECT_FALSE(submit({"-P", "../x"}, bad, e));
  EXPECT_NE(e.find("illegal -P value"), std::string::npos) << e;
  EXPECT_FALSE(submit({"-W", "umask=999"}, bad, e));
  EXPECT_NE(e.find("illegal -W umask value"), std::string::npos) << e;
  EXPECT_FALSE(submit({"-W", "group_list=a;b"}, bad, e));
  EXPECT_TRUE(valid_user_name("reprise_u1"));
  EXPECT_FALSE(valid_user_name("-x"));
  EXPECT_FALSE(valid_user_name(""));
}

TEST(QsubOptions, ExecutionTimeForms) {
  std::time_t now = local(2026, 6, 15, 12, 0, 0), when;
  ASSERT_TRUE(client::parse_execution_time("1330", now, when));
  EXPECT_EQ(when, local(2026, 6, 15, 13, 30));
  ASSERT_TRUE(client::parse_execution_time("1130", now, when));
  EXPECT_EQ(when, local(2026, 6, 16, 11, 30)) << "a time already past today is tomorrow";
  ASSERT_TRUE(client::parse_execution_time("1330.45", now, when));
  EXPECT_EQ(when, local(2026, 6, 15, 13, 30, 45));
  ASSERT_TRUE(client::parse_execution_time("200900", now, when));
  EXPECT_EQ(when, local(2026, 6, 20, 9, 0));
  ASSERT_TRUE(client::parse_execution_time("100900", now, when));
  EXPECT_EQ(when, local(2026, 7, 10, 9, 0)) << "a day already past is next month";
  ASSERT_TRUE(client::parse_execution_time("01020304", now, when));
  EXPECT_EQ(when, local(2027, 1, 2, 3, 4)) << "a month already past is next year";
  ASSERT_TRUE(client::parse_execution_time("2712312359", now, when));
  EXPECT_EQ(when, local(2027, 12, 31, 23, 59));
  ASSERT_TRUE(client::parse_execution_time("202701010000", now, when));
  EXPECT_EQ(when, local(2027, 1, 1, 0, 0));
  for (const char* bad : {"", "12", "123", "2460", "1299", "13320000", "0431" "1200", "12:00", "1200.5", "abcd",
                          "1200.61", "1234567890123"})
    EXPECT_FALSE(client::parse_execution_time(bad, now, when)) << bad;
  client::Submission s;
  std::string e;
  EXPECT_FALSE(submit({"-a", "tomorrow"}, s, e));
  EXPECT_NE(e.find("illegal -a value"), std::string::npos) << e;
  ASSERT_TRUE(submit({"-a", "202701010000"}, s, e)) << e;
  EXPECT_EQ(s.attrs["Execution_Time"], std::to_string(long(local(2027, 1, 1, 0, 0))));
}
