// Job mail (issue 14, item 7): qsub -m abe / -M through the site's sendmail. The fake
// sendmail is a script that records its arguments and input: that is sendmail's real
// interface, so nothing is mocked.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "harness.h"

using namespace reprise::test;
using namespace std::chrono_literals;

namespace {

const char* kUser = "reprise_p1";

class Mail : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_user(kUser);
    ASSERT_TRUE(c.ok()) << c.why();
    log = c.tmp() + "/mail.log";
    std::string script = c.tmp() + "/fake_sendmail";
    std::ofstream(script) << "#!/bin/sh\n{ echo \"ARGS: $*\"; cat; echo \"--END--\"; } >> " << log << "\n";
    ::chmod(script.c_str(), 0755);
    ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set server sendmail_path = " + script + ", mail_from = batchadm"}).code, 0);
  }
  // The recorded mails once there are `n` of them.
  std::vector<std::string> mails(size_t n) {
    std::vector<std::string> out;
    wait_for([&] {
      out.clear();
      std::string all = slurp(log);
      size_t pos = 0, end;
      while ((end = all.find("--END--\n", pos)) != std::string::npos) {
        out.push_back(all.substr(pos, end - pos));
        pos = end + 8;
      }
      return out.size() >= n;
    }, 20s);
    return out;
  }
  Cluster c;
  std::string log;
};

TEST_F(Mail, BeginAndEndMailsGoThroughSendmailWithTorquesTexts) {
  std::string id = c.submit(kUser, "true\n", {"-m", "be", "-M", "alice@example.org"});
  ASSERT_TRUE(c.wait_state(id, "C"));
  auto m = mails(2);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].find("ARGS: -f batchadm alice@example.org\nTo: alice@example.org\nSubject: PBS JOB " + id + "\n"), 0u) << m[0];
  EXPECT_NE(m[0].find("\n\nPBS Job Id: " + id + "\nJob Name:   STDIN\nExec host:  "), std::string::npos) << m[0];
  EXPECT_NE(m[0].find("\nBegun execution\n"), std::string::npos) << m[0];
  EXPECT_NE(m[1].find("\nExecution terminated\nExit_status=0\n"), std::string::npos) << m[1];
  EXPECT_NE(m[1].find("resources_used.walltime="), std::string::npos) << m[1];
}

TEST_F(Mail, AbortMailByDefaultAndOnlyPlainAddresses) {
  // Mail_Points default to "a": a job that ends normally sends nothing.
  std::string quiet = c.submit(kUser, "true\n");
  ASSERT_TRUE(c.wait_state(quiet, "C"));
  // Deleted before it ran: aborted. An option-like address never reaches sendmail.
  std::string id = c.submit(kUser, "true\n", {"-h", "-M", "-oQ/tmp/evil,bob@example.org"});
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(c.cmd("", {"qdel", id}).code, 0);
  auto m = mails(1);
  ASSERT_EQ(m.size(), 1u) << "only the aborted job mails";
  EXPECT_EQ(m[0].find("ARGS: -f batchadm bob@example.org\n"), 0u) << m[0];
  EXPECT_NE(m[0].find("Subject: PBS JOB " + id + "\n"), std::string::npos);
  EXPECT_NE(m[0].find("\nAborted by PBS Server \n"), std::string::npos) << m[0];
  EXPECT_EQ(m[0].find("evil"), std::string::npos) << m[0];
}

TEST_F(Mail, FailMailOnlyForNonZeroExit) {
  // -m f (TORQUE): the end mail of a job that exits non-zero; a successful one sends none.
  std::string good = c.submit(kUser, "true\n", {"-m", "f", "-M", "carol@example.org"});
  ASSERT_TRUE(c.wait_state(good, "C"));
  std::string bad = c.submit(kUser, "exit 3\n", {"-m", "f", "-M", "carol@example.org"});
  ASSERT_TRUE(c.wait_state(bad, "C"));
  auto m = mails(1);
  std::this_thread::sleep_for(1s);  // a mail for the good job would have come by now
  m = mails(1);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_NE(m[0].find("Subject: PBS JOB " + bad + "\n"), std::string::npos) << m[0];
  EXPECT_NE(m[0].find("\nExit_status=3\n"), std::string::npos) << m[0];
}

}  // namespace
