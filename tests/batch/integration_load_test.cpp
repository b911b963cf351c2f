// Load: 10,000 jobs in a real server, listed by the real qstat.
// Submitting 10,000 jobs with qsub processes takes 30-60 s on a loaded 2-core machine, so the
// jobs are sent as real submit requests (the wire protocol qsub speaks, over the server's Unix
// socket, as an ordinary user) on 4 connections in parallel: a few seconds. Timing belongs to
// bench/batch (batch_bench --qstat-only); this test checks the listing is complete and right.
#include <gtest/gtest.h>
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "harness.h"
#include "protocol_submit.h"

using namespace reprise;
using namespace reprise::test;

namespace {

const char* kUser = "reprise_u1";
const char* kOther = "reprise_u2";
const int kJobs = 10000;
const std::vector<std::string> kQueues = {"batch", "short", "long", "debug"};

// Submits job i (0 <= i < count) to kQueues[i % 4] with Job_Name "load<i>", held (qsub -h),
// from `workers` connections as `user`. True when every submission was accepted.
bool submit_held(Cluster& c, const std::string& user, int count, int workers) {
  pid_t pid = fork();
  if (pid == 0) {
    passwd* pw = getpwnam(user.c_str());
    if (!pw || initgroups(user.c_str(), pw->pw_gid) || setgid(pw->pw_gid) || setuid(pw->pw_uid)) _exit(1);
    for (auto& [k, v] : c.env()) setenv(k.c_str(), v.c_str(), 1);
    std::string home = pw->pw_dir;
    int failed = submit_over_connections(count, workers, "#!/bin/sh\ntrue\n", [&](int i, auto& a) {
      a["Job_Name"] = "load" + std::to_string(i);
      a["queue"] = kQueues[size_t(i) % kQueues.size()];
      a["Hold_Types"] = "u";
      a["Join_Path"] = "oe";
      a["Output_Path"] = "/dev/null";
      a["Variable_List"] = "PBS_O_WORKDIR=/tmp,PBS_O_HOME=" + home;
    });
    _exit(failed ? 4 : 0);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

TEST(Load, QstatListsTenThousandQueuedJobs) {
  ensure_user(kUser);
  ensure_user(kOther);
  Cluster c;
  ASSERT_TRUE(c.ok()) << c.why();
  for (size_t i = 1; i < kQueues.size(); ++i) {
    ASSERT_EQ(c.cmd("", {"qmgr", "-c", "create queue " + kQueues[i]}).code, 0);
    ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set queue " + kQueues[i] + " enabled = true, started = true"}).code, 0);
  }
  ASSERT_TRUE(submit_held(c, kUser, kJobs, 4));
  // One job of someone else, queued normally: not in kUser's listing.
  std::string other = c.submit(kOther, "true\n", {"-h"});
  ASSERT_FALSE(other.empty());
  std::string server = other.substr(other.find('.') + 1);

  Result r = c.cmd(kUser, {"qstat"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  std::vector<std::string> rows = lines_of(r.out);
  ASSERT_EQ(rows.size(), size_t(kJobs + 2));
  EXPECT_EQ(rows[0], "Job id                    Name             User            Time Use S Queue");
  EXPECT_EQ(rows[1], "------------------------- ---------------- --------------- -------- - -----");
  // Job ids are given in submission order; the 4 submitters interleave, so check the set.
  std::vector<bool> seen(kJobs, false);
  int bad = 0;
  for (size_t k = 2; k < rows.size(); ++k) {
    const std::string& row = rows[k];
    long seq = std::atol(row.c_str());
    std::string id = std::to_string(seq) + "." + server;
    bool ok = seq >= 0 && seq < kJobs && !seen[size_t(seq)];
    if (ok) seen[size_t(seq)] = true;
    // Each row: id, name load<i>, user, time 0, state H, queue of load<i>.
    std::istringstream f(row);
    std::string rid, name, user, time, state, queue;
    f >> rid >> name >> user >> time >> state >> queue;
    ok = ok && (rid == id || id.rfind(rid, 0) == 0) && name.rfind("load", 0) == 0 && user == kUser && time == "0" &&
         state == "H";
    if (ok) {
      int i = std::atoi(name.c_str() + 4);
      ok = i >= 0 && i < kJobs && queue == kQueues[size_t(i) % kQueues.size()];
    }
    if (!ok && ++bad <= 5) ADD_FAILURE() << "bad row: '" << row << "'";
  }
  EXPECT_EQ(bad, 0);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), kJobs);

  // The same jobs through -u (TORQUE's alternative table: blank line, server, 3 header lines),
  // and root (a manager) sees everyone's jobs.
  Result mine = c.cmd(kUser, {"qstat", "-u", kUser});
  EXPECT_EQ(lines_of(mine.out).size(), size_t(kJobs + 5));
  Result all = c.cmd("", {"qstat"});
  EXPECT_EQ(lines_of(all.out).size(), size_t(kJobs + 3));
  Result only_other = c.cmd("", {"qstat", "-u", kOther});
  ASSERT_EQ(lines_of(only_other.out).size(), 6u) << only_other.out;
  EXPECT_EQ(only_other.out.substr(only_other.out.rfind('\n', only_other.out.size() - 2) + 1, other.size()), other);
  Result none = c.cmd("", {"qstat", "-u", "nosuchuser"});
  EXPECT_EQ(none.code, 0);
  EXPECT_EQ(none.out, "");
  // qstat QUEUE lists that queue's quarter.
  Result shortq = c.cmd(kUser, {"qstat", "short"});
  EXPECT_EQ(lines_of(shortq.out).size(), size_t(kJobs / 4 + 2));

  // qstat -f of one of them, and the alternative table still sees all.
  std::string id = std::to_string(kJobs / 2) + "." + server;
  Result full = c.cmd(kUser, {"qstat", "-f", id});
  ASSERT_EQ(full.code, 0) << full.err;
  EXPECT_EQ(full.out.rfind("Job Id: " + id + "\n", 0), 0u) << full.out;
  EXPECT_NE(full.out.find("    job_state = H\n"), std::string::npos) << full.out;
  EXPECT_NE(full.out.find("    Hold_Types = u\n"), std::string::npos) << full.out;
  EXPECT_NE(full.out.find("    Job_Name = load"), std::string::npos) << full.out;
  Result alt = c.cmd(kUser, {"qstat", "-a"});
  EXPECT_EQ(lines_of(alt.out).size(), size_t(kJobs + 5));
}

}  // namespace
