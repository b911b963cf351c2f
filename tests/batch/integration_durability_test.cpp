// kill -9 of the daemons: nothing acknowledged is lost, running jobs are reconciled.
#include <gtest/gtest.h>
#include <signal.h>

#include <unistd.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "harness.h"

using namespace reprise::test;
using namespace std::chrono_literals;

namespace {

const char* kUser = "reprise_u1";

std::map<std::string, std::string> job_states(Cluster& c) {
  Result r = c.cmd("", {"qstat", "-f", "-F", "json"});
  std::map<std::string, std::string> out;
  if (r.code != 0) return out;
  auto j = nlohmann::json::parse(r.out);
  for (auto& [id, job] : j["Jobs"].items()) out[id] = job["job_state"].get<std::string>();
  return out;
}

TEST(Durability, KillDashNineServerWith200JobsQueuedAndRunning) {
  ensure_user(kUser);
  Cluster c;
  ASSERT_TRUE(c.ok()) << c.why();
  Result nodes = c.cmd("", {"pbsnodes", "-a"});
  std::string node = nodes.out.substr(0, nodes.out.find('\n'));
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set node " + node + " np = 20"}).code, 0);
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    std::string id = c.submit(kUser, "sleep 300\n", {"-N", "d" + std::to_string(i)});
    ASSERT_FALSE(id.empty()) << "submission " << i;
    ids.push_back(id);
  }
  ASSERT_TRUE(wait_for([&] {
    auto s = job_states(c);
    int running = 0;
    for (auto& [id, st] : s) running += st == "R";
    return running == 20;
  }, 30s));
  // Freeze scheduling so the states after restart must equal the states before.
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set server scheduling = false"}).code, 0);
  ASSERT_TRUE(wait_for([&] {
    Result r = c.cmd("", {"qstat", "-f", "-F", "json"});
    if (r.code != 0) return false;
    for (auto& [id, job] : nlohmann::json::parse(r.out)["Jobs"].items())
      if (job["job_state"] == "R" && !job.contains("session_id")) return false;
    return true;
  }, 20s));
  auto before = job_states(c);
  ASSERT_EQ(before.size(), 200u);

  c.kill_server(SIGKILL);
  EXPECT_NE(c.cmd("", {"qstat"}).code, 0) << "server must be down";
  ASSERT_TRUE(c.start_server(false));
  // The mom reconnects and reports its 20 running jobs.
  ASSERT_TRUE(wait_for([&] { return c.cmd("", {"pbsnodes", "-a"}).out.find("state = job-exclusive") != std::string::npos; }, 15s));
  auto after = job_states(c);
  EXPECT_EQ(after, before);
  int running = 0;
  for (auto& [id, st] : after) running += st == "R";
  EXPECT_EQ(running, 20);
  // The running jobs really are still running and controllable.
  std::string victim;
  for (auto& [id, st] : after) if (st == "R") victim = id;
  EXPECT_EQ(c.cmd("", {"qdel", victim}).code, 0);
  EXPECT_TRUE(c.wait_state(victim, "C", 15));
  EXPECT_EQ(c.attr(victim, "exit_status"), "271");
  // New ids continue after the old ones.
  std::string next = c.submit(kUser, "true\n");
  EXPECT_EQ(std::stol(next.substr(0, next.find('.'))), 200);
}

TEST(Durability, JobEndingWhileServerIsDownIsReportedLater) {
  ensure_user(kUser);
  Cluster c;
  ASSERT_TRUE(c.ok()) << c.why();
  std::string id = c.submit(kUser, "sleep 2; exit 7\n");
  ASSERT_TRUE(c.wait_state(id, "R", 10));
  c.kill_server(SIGKILL);
  std::this_thread::sleep_for(4s);  // the job ends meanwhile
  ASSERT_TRUE(c.start_server(false));
  ASSERT_TRUE(c.wait_state(id, "C", 20));
  EXPECT_EQ(c.attr(id, "exit_status"), "7");
}

TEST(Durability, RestartedMomFindsItsRunningJob) {
  ensure_user(kUser);
  Cluster c;
  ASSERT_TRUE(c.ok()) << c.why();
  std::string id = c.submit(kUser, "sleep 3; exit 5\n");
  ASSERT_TRUE(c.wait_state(id, "R", 10));
  ASSERT_TRUE(wait_for([&] { return !c.attr(id, "session_id").empty(); }, 5s));
  c.kill_mom(SIGKILL);
  ASSERT_TRUE(c.start_mom());
  EXPECT_EQ(c.attr(id, "job_state"), "R") << "the job survived its mom";
  ASSERT_TRUE(c.wait_state(id, "C", 20));
  EXPECT_EQ(c.attr(id, "exit_status"), "5");
  // A mom killed while the job ends, restarted after: the end is still reported.
  std::string id2 = c.submit(kUser, "sleep 1; exit 9\n");
  ASSERT_TRUE(c.wait_state(id2, "R", 10));
  c.kill_mom(SIGKILL);
  std::this_thread::sleep_for(3s);
  ASSERT_TRUE(c.start_mom());
  ASSERT_TRUE(c.wait_state(id2, "C", 20));
  EXPECT_EQ(c.attr(id2, "exit_status"), "9");
}

}  // namespace

namespace {

// server_priv on a tiny tmpfs, filled up: submissions fail with a clear error, nothing is
// half-stored, reads keep working, and once space is back submissions work again.
TEST(Durability, FullDiskUnderServerPrivRefusesChangesAndKeepsServing) {
  ensure_user(kUser);
  Cluster c;
  ASSERT_TRUE(c.ok()) << c.why();
  std::string before = c.submit(kUser, "true\n", {"-h"});
  ASSERT_FALSE(before.empty());
  std::string priv = c.home() + "/server_priv";
  std::string saved = c.tmp() + "/server_priv.saved";
  c.kill_server(SIGTERM);
  ASSERT_EQ(run({"cp", "-a", priv, saved}).code, 0);
  Result m = run({"mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", priv});
  if (m.code != 0) GTEST_SKIP() << "cannot mount a tmpfs here: " << m.err;
  struct Unmount {
    std::string path;
    ~Unmount() { run({"umount", "-l", path}); }
  } unmount{priv};
  ASSERT_EQ(run({"sh", "-c", "cp -a " + saved + "/. " + priv + "/"}).code, 0);
  ASSERT_TRUE(c.start_server(false));
  // Fill the filesystem.
  run({"sh", "-c", "dd if=/dev/zero of=" + priv + "/filler bs=64k 2>/dev/null; sync"});
  std::string big_script = "#!/bin/sh\n" + std::string(1 << 20, '#') + "\ntrue\n";
  Result full = c.cmd(kUser, {"qsub", "-h"}, c.workdir(kUser), big_script);
  EXPECT_NE(full.code, 0);
  EXPECT_NE(full.err.find("cannot store the change"), std::string::npos) << full.err;
  EXPECT_EQ(std::count(full.err.begin(), full.err.end(), '\n'), 1) << full.err;
  // Still serving, and the failed job is nowhere.
  Result list = c.cmd(kUser, {"qstat"});
  EXPECT_EQ(list.code, 0);
  EXPECT_NE(list.out.find(before), std::string::npos);
  EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), 3) << "header, rule, one job:\n" << list.out;
  // Space back: it works again, and the ids did not skip.
  ::unlink((priv + "/filler").c_str());
  std::string after = c.submit(kUser, "true\n", {"-h"});
  ASSERT_FALSE(after.empty());
  EXPECT_EQ(std::stol(after.substr(0, after.find('.'))), std::stol(before.substr(0, before.find('.'))) + 1);
  // And it survives a restart (the database is intact).
  c.kill_server(SIGKILL);
  ASSERT_TRUE(c.start_server(false));
  EXPECT_EQ(c.attr(after, "job_state"), "H");
  c.kill_server(SIGKILL);
}

}  // namespace
