// Several nodes and their failures (issue 6), on hosts made of network namespaces
// (netns_cluster.h): jobs spread over nodes, pbsnodes states, PBS_NODEFILE of a two-node
// job, a remote client over TCP, migration with qrun -H, node failure (requeue, resume
// from the latest periodic image, -r y|n), a returning mom killing its stale copy, and
// kill -9 of pbs_server under load.
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "netns_cluster.h"

using namespace reprise::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const char* kUser = "reprise_mn1";

// Mom settings that make failures show quickly: status every second, and periodic
// checkpoint intervals counted in seconds instead of minutes.
const char* kFastMoms = "$status_update_time 1\n$checkpoint_interval_unit 1\n";
// A silent mom's node is down after 3 s; its jobs move 2 s later.
const std::vector<std::string> kFastFailover = {"set server node_check_rate = 3",
                                                "set server node_fail_requeue = 2"};

size_t count_lines(const std::string& path) {
  std::string s = slurp(path);
  return size_t(std::count(s.begin(), s.end(), '\n'));
}

std::string expected_counts(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "Count = " + std::to_string(i) + "\n";
  return s;
}

int node_index(const std::string& name) { return name.size() > 1 ? std::atoi(name.c_str() + 1) : 0; }

std::string tail(const std::string& s, size_t n = 3000) { return s.size() > n ? s.substr(s.size() - n) : s; }

class MultiNode : public ::testing::Test {
 protected:
  // Builds the cluster; skips the test (saying why) only when namespaces cannot be made.
  void start(int nodes, const std::string& mom_config = kFastMoms, const std::vector<std::string>& qmgr = {}) {
    uid_ = ensure_user(kUser);
    c_ = std::make_unique<NetCluster>(nodes, mom_config, qmgr);
    if (c_->namespaces_unavailable()) GTEST_SKIP() << "SKIPPED: " << c_->why();
    ASSERT_TRUE(c_->ok()) << c_->why() << "\n--- server log\n" << tail(c_->server_log());
    work_ = c_->workdir(kUser);
    std::string prog = work_ + "/counting";
    fs::copy_file(bin("programs/counting"), prog, fs::copy_options::overwrite_existing);
    ASSERT_EQ(::chown(prog.c_str(), uid_, getpwnam(kUser)->pw_gid), 0);
    ::chmod(prog.c_str(), 0755);
  }

  std::string submit(const std::string& name, const std::string& body, std::vector<std::string> opts = {}) {
    std::vector<std::string> all{"-N", name, "-d", work_};
    all.insert(all.end(), opts.begin(), opts.end());
    return c_->submit(kUser, "#!/bin/bash\n" + body + "\n", all);
  }
  // The counting program as a job: n lines "Count = i", ms apart.
  std::string submit_counting(int n, int ms, const std::vector<std::string>& opts) {
    return submit("ck", "./counting " + std::to_string(n) + " " + std::to_string(ms), opts);
  }
  std::string out_of(const std::string& name, const std::string& id) { return work_ + "/" + name + ".o" + seq_of(id); }

  std::string why(const std::string& id) {
    return "\n--- qstat -f\n" + c_->cmd("", {"qstat", "-f", id}).out + "--- pbsnodes\n" +
           c_->cmd("", {"pbsnodes", "-a"}).out + "--- server log\n" + tail(c_->server_log());
  }

  // Waits until the running job has at least one checkpoint and `lines` lines of output.
  void wait_checkpointed(const std::string& id, const std::string& out, size_t lines) {
    ASSERT_TRUE(wait_for([&] { return !c_->attr(id, "checkpoint_name").empty() && count_lines(out) >= lines; }, 30s))
        << why(id);
  }

  std::unique_ptr<NetCluster> c_;
  uid_t uid_ = 0;
  std::string work_;
};

TEST_F(MultiNode, JobsSpreadOverNodesAndPbsnodesShowsTheirStates) {
  start(3);
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(submit("sl", "sleep 60"));
  std::set<std::string> used;
  for (const auto& id : ids) {
    ASSERT_TRUE(c_->wait_attr(id, "job_state", "R", 20)) << why(id);
    used.insert(c_->job_node(id));
  }
  EXPECT_EQ(used, (std::set<std::string>{"n1", "n2", "n3"})) << "three one-slot jobs on three one-slot nodes";
  for (int i = 1; i <= 3; ++i) EXPECT_EQ(c_->node_state(i), "job-exclusive");
  std::string waiting = submit("sl", "sleep 60");
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(c_->attr(waiting, "job_state"), "Q") << "no free slot anywhere";

  // offline, a node without a mom (down), and a node made with qmgr.
  ASSERT_EQ(c_->cmd("", {"pbsnodes", "-o", "n3"}).code, 0);
  EXPECT_NE(c_->node_state(3).find("offline"), std::string::npos) << c_->node_state(3);
  Result created = c_->cmd("", {"qmgr", "-c", "create node n9 np=2"});
  ASSERT_EQ(created.code, 0) << created.err;
  EXPECT_NE(c_->cmd("", {"pbsnodes", "n9"}).out.find("state = down"), std::string::npos);

  // A remote client, on n2's host, over TCP with its MUNGE credential.
  Result remote = c_->remote_cmd(2, kUser, {"qstat"});
  ASSERT_EQ(remote.code, 0) << remote.err;
  for (const auto& id : ids) EXPECT_NE(remote.out.find(seq_of(id) + "."), std::string::npos) << remote.out;

  // Free n1 and n2, then a two-node job: its PBS_NODEFILE names both (n3 is offline).
  for (const auto& id : ids) c_->cmd("", {"qdel", id});
  c_->cmd("", {"qdel", waiting});
  for (const auto& id : ids) ASSERT_TRUE(c_->wait_attr(id, "job_state", "C", 20)) << why(id);
  std::string pair = submit("pair", "sort $PBS_NODEFILE | tr '\\n' ' '; echo; echo nodes=$PBS_NUM_NODES",
                            {"-l", "nodes=2:ppn=1"});
  ASSERT_TRUE(c_->wait_attr(pair, "job_state", "C", 30)) << why(pair);
  EXPECT_EQ(slurp(out_of("pair", pair)), "n1 n2 \nnodes=2\n");
  EXPECT_EQ(c_->attr(pair, "exit_status"), "0");
}

TEST_F(MultiNode, HeldJobMovesToAnotherNodeWithQrunH) {
  start(2);
  std::string id = submit_counting(30, 200, {"-c", "enabled"});
  ASSERT_TRUE(c_->wait_attr(id, "job_state", "R", 20)) << why(id);
  std::string from = c_->job_node(id);
  std::string to = from == "n1" ? "n2" : "n1";
  ASSERT_TRUE(wait_for([&] { return count_lines(out_of("ck", id)) >= 5; }, 20s)) << why(id);
  ASSERT_EQ(c_->cmd(kUser, {"qhold", id}).code, 0);
  ASSERT_TRUE(c_->wait_attr(id, "job_state", "H", 30)) << why(id);
  size_t at_hold = count_lines(out_of("ck", id));
  EXPECT_LT(at_hold, 30u);

  // Only operators may choose where a job runs.
  EXPECT_NE(c_->cmd(kUser, {"qrun", "-H", to, id}).code, 0);
  Result moved = c_->cmd("", {"qrun", "-H", to, id});
  ASSERT_EQ(moved.code, 0) << moved.err;
  EXPECT_EQ(c_->job_node(id), to);
  EXPECT_EQ(c_->attr(id, "Hold_Types"), "n");
  ASSERT_TRUE(c_->wait_attr(id, "job_state", "C", 60)) << why(id);
  EXPECT_EQ(c_->attr(id, "exit_status"), "0") << why(id);
  EXPECT_EQ(slurp(out_of("ck", id)), expected_counts(30)) << "restarted on " << to << " from its image";
  EXPECT_NE(c_->mom_log(node_index(to)).find("job " + id + " restarts from its image"), std::string::npos)
      << c_->mom_log(node_index(to));
}

TEST_F(MultiNode, FailedNodesCheckpointedJobResumesFromItsLatestImageElsewhere) {
  start(3, kFastMoms, kFastFailover);
  // Periodic checkpoints every second; 60 counts, 250 ms apart.
  std::string id = submit_counting(60, 250, {"-c", "enabled,periodic,interval=1"});
  ASSERT_TRUE(c_->wait_attr(id, "job_state", "R", 20)) << why(id);
  std::string dead = c_->job_node(id);
  std::string out = out_of("ck", id);
  wait_checkpointed(id, out, 12);

  auto cut_at = std::chrono::steady_clock::now();
  c_->power_off(node_index(dead));
  ASSERT_TRUE(wait_for([&] { return c_->node_state(node_index(dead)) == "down"; }, 20s)) << why(id);
  double down_after = std::chrono::duration<double>(std::chrono::steady_clock::now() - cut_at).count();
  EXPECT_LT(down_after, 3 + 3.0) << "node_check_rate 3 s, plus one status interval and polling";

  std::string healthy;
  ASSERT_TRUE(wait_for([&] {
                healthy = c_->job_node(id);
                return !healthy.empty() && healthy != dead;
              },
              30s))
      << why(id);
  double moved_after = std::chrono::duration<double>(std::chrono::steady_clock::now() - cut_at).count();
  // Reported for docs/benchmarks.md (node_check_rate 3, node_fail_requeue 2, status every 1 s).
  std::cout << "[ timing ] node down " << down_after << " s after the failure; job running on " << healthy
            << " " << moved_after << " s after it\n";
  EXPECT_NE(c_->attr(id, "start_count"), "1");
  EXPECT_NE(c_->server_log().find("node " + dead + " failed; it restarts from its checkpoint"), std::string::npos)
      << tail(c_->server_log());
  ASSERT_TRUE(c_->wait_attr(id, "job_state", "C", 60)) << why(id);
  EXPECT_EQ(c_->attr(id, "exit_status"), "0") << why(id);
  EXPECT_NE(c_->mom_log(node_index(healthy)).find("job " + id + " restarts from its image"), std::string::npos)
      << "resumed, not rerun\n" << c_->mom_log(node_index(healthy));
  EXPECT_EQ(slurp(out), expected_counts(60)) << "every line once, across the failure";
}

TEST_F(MultiNode, FailedNodesOtherJobsAreRequeuedOrFailedPerRerunable) {
  start(3, kFastMoms, kFastFailover);
  std::string again = submit("again", "echo run; sleep 8", {"-r", "y"});
  std::string once = submit("once", "echo run; sleep 8", {"-r", "n"});
  ASSERT_TRUE(c_->wait_attr(again, "job_state", "R", 20)) << why(again);
  ASSERT_TRUE(c_->wait_attr(once, "job_state", "R", 20)) << why(once);
  std::string a = c_->job_node(again), b = c_->job_node(once);
  ASSERT_NE(a, b);
  c_->power_off(node_index(a));
  c_->power_off(node_index(b));

  ASSERT_TRUE(c_->wait_attr(once, "job_state", "C", 30)) << why(once);
  EXPECT_EQ(c_->attr(once, "exit_status"), "-2");
  EXPECT_NE(c_->attr(once, "comment").find("not rerunable"), std::string::npos) << why(once);

  ASSERT_TRUE(wait_for([&] {
                std::string n = c_->job_node(again);
                return !n.empty() && n != a && n != b;
              },
              30s))
      << why(again);
  EXPECT_EQ(c_->attr(again, "start_count"), "2");
  ASSERT_TRUE(c_->wait_attr(again, "job_state", "C", 30)) << why(again);
  EXPECT_EQ(c_->attr(again, "exit_status"), "0");
  EXPECT_EQ(slurp(out_of("again", again)), "run\n") << "the rerun wrote its output afresh";
}

TEST_F(MultiNode, MomThatComesBackKillsItsStaleCopyOfAMovedJob) {
  start(2, kFastMoms, kFastFailover);
  std::string id = submit_counting(40, 250, {"-c", "enabled,periodic,interval=1"});
  ASSERT_TRUE(c_->wait_attr(id, "job_state", "R", 20)) << why(id);
  int lost = node_index(c_->job_node(id));
  std::string out = out_of("ck", id);
  wait_checkpointed(id, out, 8);

  // The host hangs: its job stops, its mom dies, its link goes. The job lives on, frozen.
  std::vector<pid_t> stale = c_->job_processes(lost);
  ASSERT_FALSE(stale.empty());
  for (pid_t p : stale) kill(p, SIGSTOP);
  c_->cut(lost);
  c_->kill_mom(lost, SIGKILL);
  ASSERT_TRUE(wait_for([&] {
                std::string n = c_->job_node(id);
                return !n.empty() && n != NetCluster::node(lost);
              },
              30s))
      << why(id);
  ASSERT_TRUE(c_->wait_attr(id, "job_state", "C", 60)) << why(id);
  EXPECT_EQ(slurp(out), expected_counts(40));
  for (pid_t p : stale) EXPECT_FALSE(process_gone(p)) << "the frozen copy is still there before its mom returns";

  // The host comes back: its mom recovers the job, registers, and is told to kill it.
  ASSERT_TRUE(c_->reconnect(lost));
  ASSERT_TRUE(c_->start_mom(lost));
  EXPECT_TRUE(wait_for([&] { return std::all_of(stale.begin(), stale.end(), process_gone); }, 30s))
      << "stale copy still alive\n" << tail(c_->mom_log(lost)) << why(id);
  EXPECT_NE(c_->server_log().find("stale copy of job " + id), std::string::npos);
  ASSERT_TRUE(wait_for([&] { return c_->node_state(lost) == "free"; }, 20s)) << why(id);
  EXPECT_EQ(c_->attr(id, "job_state"), "C");
  EXPECT_EQ(c_->attr(id, "exit_status"), "0") << "the stale copy's end is not the job's end";
  EXPECT_EQ(slurp(out), expected_counts(40)) << "the stale copy wrote nothing";
}

TEST_F(MultiNode, ServerKilledUnderLoadLosesNoAcknowledgedJobAndDisturbsNoRunningOne) {
  start(3);
  // Running while the server dies: a checkpointing counter and two plain jobs that end
  // during the outage.
  std::string ck = submit_counting(50, 200, {"-c", "enabled,periodic,interval=1"});
  std::string p1 = submit("plain", "sleep 4; echo done");
  std::string p2 = submit("plain", "sleep 4; echo done");
  for (const auto& id : {ck, p1, p2}) ASSERT_TRUE(c_->wait_attr(id, "job_state", "R", 20)) << why(id);

  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> refused{0};
  std::thread submitter([&] {
    while (!stop) {
      std::string id = submit("load", "true");
      if (id.empty()) {
        ++refused;
        std::this_thread::sleep_for(100ms);
        continue;
      }
      std::lock_guard<std::mutex> lock(mu);
      acknowledged.push_back(id);
    }
  });
  std::this_thread::sleep_for(1500ms);
  c_->kill_server(SIGKILL);
  std::this_thread::sleep_for(6s);  // the plain jobs end while the server is away
  ASSERT_TRUE(c_->start_server(false)) << tail(c_->server_log());
  std::this_thread::sleep_for(2s);
  stop = true;
  submitter.join();
  EXPECT_GT(refused.load(), 0) << "some submissions met the dead server";
  ASSERT_GT(acknowledged.size(), 5u);

  Result all = c_->cmd("", {"qstat"});
  ASSERT_EQ(all.code, 0) << all.err;
  for (const auto& id : acknowledged) EXPECT_NE(all.out.find(seq_of(id) + "."), std::string::npos) << id << " lost";
  for (const auto& id : {p1, p2}) {
    ASSERT_TRUE(c_->wait_attr(id, "job_state", "C", 30)) << why(id);
    EXPECT_EQ(c_->attr(id, "exit_status"), "0");
    EXPECT_EQ(c_->attr(id, "start_count"), "1") << "not restarted";
    EXPECT_EQ(slurp(out_of("plain", id)), "done\n");
  }
  ASSERT_TRUE(c_->wait_attr(ck, "job_state", "C", 60)) << why(ck);
  EXPECT_EQ(c_->attr(ck, "start_count"), "1");
  EXPECT_EQ(c_->attr(ck, "exit_status"), "0");
  EXPECT_EQ(slurp(out_of("ck", ck)), expected_counts(50));
  EXPECT_FALSE(c_->attr(ck, "checkpoint_name").empty());
  for (const auto& id : acknowledged) EXPECT_TRUE(c_->wait_attr(id, "job_state", "C", 60)) << why(id);
}

}  // namespace
