// Issue 10, finding 7: scripts, environment values and attribute values are bytes, not UTF-8.
// Latin-1 input must travel, be stored (server database, mom records) and come back exactly.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "harness.h"

using namespace reprise::test;
using namespace std::chrono_literals;

namespace {

const char* kUser = "reprise_u1";
// "café ÿ" in Latin-1: 0xe9 and 0xff are never valid UTF-8 on their own.
const std::string kLatin1 = "caf\xe9 \xff";
const std::string kName = "n\xff";

class Bytes : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_user(kUser);
    ASSERT_TRUE(c.ok()) << c.why();
  }
  // qsub as kUser from its work dir, with `extra` added to the environment (for -V / -v).
  std::string submit(const std::string& script, const std::vector<std::string>& opts,
                     const std::map<std::string, std::string>& extra = {}) {
    std::vector<std::string> argv{bin("qsub")};
    argv.insert(argv.end(), opts.begin(), opts.end());
    auto env = c.env();
    for (const auto& [k, v] : extra) env[k] = v;
    Result r = run(argv, kUser, env, c.workdir(kUser), script);
    EXPECT_EQ(r.code, 0) << r.err;
    return job_id_of(r);
  }
  std::string output_of(const std::string& name, const std::string& job) {
    return slurp(c.workdir(kUser) + "/" + name + ".o" + seq_of(job));
  }
  Cluster c;
};

TEST_F(Bytes, Latin1ScriptRunsAndItsOutputIsByteExact) {
  std::string job = submit("echo '" + kLatin1 + "'\n", {});
  ASSERT_FALSE(job.empty());
  ASSERT_TRUE(c.wait_state(job, "C", 20));
  EXPECT_EQ(c.attr(job, "exit_status"), "0");
  EXPECT_EQ(output_of("STDIN", job), kLatin1 + "\n");
}

TEST_F(Bytes, JobNameWithFFShowsInQstatAndNamesTheOutput) {
  std::string job = submit("echo hi\n", {"-N", kName});
  ASSERT_FALSE(job.empty());
  ASSERT_TRUE(c.wait_state(job, "C", 20));
  EXPECT_EQ(c.attr(job, "Job_Name"), kName);
  EXPECT_EQ(output_of(kName, job), "hi\n");
  // JSON must be UTF-8: the stray byte is shown escaped (docs/batch-system.md, Clients).
  Result json = c.cmd("", {"qstat", "-f", "-F", "json", job});
  ASSERT_EQ(json.code, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["Jobs"][job]["Job_Name"].get<std::string>(), "n\\xff");
}

TEST_F(Bytes, ExportedLatin1VariablesReachTheJobExactly) {
  // ',' and '\' are Variable_List's own syntax: they must survive too.
  const std::string value = kLatin1 + ",a\\b=c";
  std::string job = submit("printenv REPRISE_L1; printenv REPRISE_L2\n",
                           {"-V", "-v", "REPRISE_L2=x\xe9y"}, {{"REPRISE_L1", value}});
  ASSERT_FALSE(job.empty());
  ASSERT_TRUE(c.wait_state(job, "C", 20));
  EXPECT_EQ(output_of("STDIN", job), value + "\n" + "x\xe9y\n");
}

TEST_F(Bytes, JobKeepsItsBytesAcrossServerKillAndMomRestart) {
  const std::string script = "sleep 6\nprintenv REPRISE_L1\necho '" + kLatin1 + "'\n";
  std::string job = submit(script, {"-N", kName, "-r", "n", "-V"}, {{"REPRISE_L1", kLatin1}});
  ASSERT_FALSE(job.empty());
  std::string held = submit(script, {"-N", kName, "-h", "-V"}, {{"REPRISE_L1", kLatin1}});
  ASSERT_FALSE(held.empty());
  ASSERT_TRUE(c.wait_state(job, "R", 10));
  ASSERT_TRUE(wait_for([&] { return !c.attr(job, "session_id").empty(); }, 5s));
  std::string before = c.cmd("", {"qstat", "-f", job, held}).out;
  ASSERT_NE(before.find(kLatin1), std::string::npos) << before;

  c.kill_server(SIGKILL);
  ASSERT_TRUE(c.start_server(false));
  // The mom reconnects and reports the running job.
  ASSERT_TRUE(wait_for([&] { return c.cmd("", {"pbsnodes", "-a"}).out.find("state = down") == std::string::npos; }, 15s));
  for (const char* a : {"Job_Name", "Variable_List", "Output_Path", "Error_Path", "job_state"})
    EXPECT_EQ(c.attr(job, a), full_attr(before, a)) << a;
  EXPECT_EQ(c.cmd("", {"qstat", "-f", held}).out, before.substr(before.find("Job Id: " + held)))
      << "the held job's listing, byte for byte";

  // The mom re-reads its record of the running job (mom_priv/jobs/ID.JB) after kill -9.
  c.kill_mom(SIGKILL);
  ASSERT_TRUE(c.start_mom());
  ASSERT_TRUE(c.wait_state(job, "C", 30));
  EXPECT_EQ(c.attr(job, "exit_status"), "0") << c.attr(job, "comment");
  EXPECT_EQ(c.attr(job, "Job_Name"), kName);
  EXPECT_EQ(output_of(kName, job), kLatin1 + "\n" + kLatin1 + "\n");
  // The held job still runs its Latin-1 script exactly.
  ASSERT_EQ(c.cmd("", {"qrls", held}).code, 0);
  ASSERT_TRUE(c.wait_state(held, "C", 30));
  EXPECT_EQ(output_of(kName, held), kLatin1 + "\n" + kLatin1 + "\n");
}

TEST_F(Bytes, QueueAndServerAttributesKeepTheirBytesAcrossRestart) {
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set server comment = " + kLatin1}).code, 0);
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set queue batch comment = " + kLatin1}).code, 0);
  c.kill_server(SIGKILL);
  ASSERT_TRUE(c.start_server(false));
  EXPECT_EQ(full_attr(c.cmd("", {"qstat", "-B", "-f"}).out, "comment"), kLatin1);
  EXPECT_EQ(full_attr(c.cmd("", {"qstat", "-Q", "-f", "batch"}).out, "comment"), kLatin1);
  Result json = c.cmd("", {"qstat", "-Q", "-f", "-F", "json"});
  ASSERT_EQ(json.code, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out)["Queue"]["batch"]["comment"].get<std::string>(), "caf\\xe9 \\xff");
}

TEST_F(Bytes, NonUtf8JobIdIsAnUnknownJobNotAProtocolError) {
  for (auto argv : std::vector<std::vector<std::string>>{{"qstat", "1\xff"}, {"qdel", "1\xff"}}) {
    Result r = c.cmd(kUser, argv);
    EXPECT_EQ(r.code, 153) << argv[0] << ": " << r.err;
    EXPECT_EQ(r.err, argv[0] + ": Unknown Job Id 1\xff\n");
  }
  // The server still serves everyone.
  EXPECT_EQ(c.cmd(kUser, {"qstat"}).code, 0);
}

}  // namespace
