// qselect, qmove, qorder, qmsg, qterm, qenable/qdisable/qstart/qstop, qdel all, qalter -q and
// -W depend=, and printjob, against a real server and mom with real users (issue 13, item 6).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <thread>

#include "harness.h"

using namespace reprise::test;
using namespace std::chrono_literals;

namespace {

const char* kUser = "reprise_u1";
const char* kOther = "reprise_u2";

class Commands : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_user(kUser);
    ensure_user(kOther);
    ASSERT_TRUE(c.ok()) << c.why();
  }
  Result qmgr(const std::string& command) { return c.cmd("", {"qmgr", "-c", command}); }
  void make_queue(const std::string& name) {
    ASSERT_EQ(qmgr("create queue " + name + " queue_type=execution").code, 0);
    ASSERT_EQ(qmgr("set queue " + name + " enabled=true").code, 0);
    ASSERT_EQ(qmgr("set queue " + name + " started=true").code, 0);
  }
  // qselect's answer as a sorted list of ids.
  std::vector<std::string> select(const std::string& user, std::vector<std::string> args) {
    args.insert(args.begin(), "qselect");
    Result r = c.cmd(user, args);
    EXPECT_EQ(r.code, 0) << r.err;
    std::vector<std::string> ids;
    size_t start = 0;
    for (size_t nl; (nl = r.out.find('\n', start)) != std::string::npos; start = nl + 1)
      ids.push_back(r.out.substr(start, nl - start));
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  static std::vector<std::string> sorted(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  }
  Cluster c;
};

TEST_F(Commands, QselectAppliesEveryCriterion) {
  std::string a = c.submit(kUser, "true\n", {"-h", "-N", "alpha", "-p", "5", "-A", "acct1", "-l", "walltime=01:00:00,mem=2gb"});
  std::string b = c.submit(kUser, "true\n", {"-h", "-N", "beta", "-p", "-3", "-r", "n", "-l", "walltime=00:10:00,mem=100mb"});
  std::string g = c.submit(kOther, "true\n", {"-h", "-N", "gamma", "-c", "c=30"});
  ASSERT_FALSE(a.empty() || b.empty() || g.empty());
  EXPECT_EQ(select("", {}), sorted({a, b, g}));
  EXPECT_EQ(select("", {"-N", "alpha"}), std::vector<std::string>{a});
  EXPECT_EQ(select("", {"-p.gt.0"}), std::vector<std::string>{a});
  EXPECT_EQ(select("", {"-p", ".lt.0"}), std::vector<std::string>{b});
  EXPECT_EQ(select("", {"-p", "0"}), std::vector<std::string>{g});  // unset Priority is 0
  EXPECT_EQ(select("", {"-l", "walltime.lt.00:30:00"}), std::vector<std::string>{b});
  EXPECT_EQ(select("", {"-l", "mem.ge.1gb"}), std::vector<std::string>{a});
  EXPECT_EQ(select("", {"-l", "mem.gt.50mb,walltime.ge.00:10:00"}), sorted({a, b}));
  EXPECT_EQ(select("", {"-u", kOther}), std::vector<std::string>{g});
  EXPECT_EQ(select("", {"-u", std::string(kUser) + "," + kOther, "-N", "beta"}), std::vector<std::string>{b});
  EXPECT_EQ(select("", {"-r", "n"}), std::vector<std::string>{b});
  EXPECT_EQ(select("", {"-A", "acct1"}), std::vector<std::string>{a});
  EXPECT_EQ(select("", {"-c", "c=30"}), std::vector<std::string>{g});
  EXPECT_EQ(select("", {"-c", ".gt.c=10"}), std::vector<std::string>{g});
  EXPECT_EQ(select("", {"-s", "H", "-h", "u"}), sorted({a, b, g}));
  EXPECT_TRUE(select("", {"-s", "QR"}).empty());
  EXPECT_TRUE(select("", {"-h", "n"}).empty());
  EXPECT_EQ(select("", {"-a", ".le.203001010000"}), std::vector<std::string>{});  // none has -a
  // Without query_other_jobs a user selects among their own jobs only.
  EXPECT_EQ(select(kOther, {}), std::vector<std::string>{g});
  EXPECT_TRUE(select(kOther, {"-N", "alpha"}).empty());
  make_queue("other");
  ASSERT_EQ(c.cmd(kUser, {"qmove", "other", b}).code, 0);
  EXPECT_EQ(select("", {"-q", "other"}), std::vector<std::string>{b});
  // Bad input: one line, exit 2.
  Result bad = c.cmd(kUser, {"qselect", "-l", "walltime<5"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("qselect: illegal -l value 'walltime<5'"), std::string::npos) << bad.err;
  EXPECT_EQ(c.cmd(kUser, {"qselect", "-s", "X"}).code, 2);
}

TEST_F(Commands, QselectTListsSubJobs) {
  std::string arr = c.submit(kUser, "true\n", {"-h", "-t", "1-3"});
  ASSERT_FALSE(arr.empty());
  std::string seq = arr.substr(0, arr.find('['));
  std::vector<std::string> whole = select(kUser, {});
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].rfind(seq + "[]", 0), 0u) << whole[0];
  std::vector<std::string> subs = select(kUser, {"-t"});
  ASSERT_EQ(subs.size(), 3u);
  EXPECT_EQ(subs[0].rfind(seq + "[1]", 0), 0u) << subs[0];
  // An array moves whole.
  make_queue("other");
  Result moved = c.cmd(kUser, {"qmove", "other", arr});
  ASSERT_EQ(moved.code, 0) << moved.err;
  EXPECT_EQ(select(kUser, {"-t", "-q", "other"}).size(), 3u);
  EXPECT_TRUE(select(kUser, {"-t", "-q", "batch"}).empty());
}

TEST_F(Commands, QmoveMovesQueuedJobsOfItsOwnerOnly) {
  make_queue("other");
  std::string id = c.submit(kUser, "true\n", {"-h"});
  ASSERT_FALSE(id.empty());
  Result denied = c.cmd(kOther, {"qmove", "other", id});
  EXPECT_NE(denied.code, 0);
  EXPECT_NE(denied.err.find("Unauthorized Request"), std::string::npos) << denied.err;
  EXPECT_EQ(c.attr(id, "queue"), "batch");
  Result unknown = c.cmd(kUser, {"qmove", "nosuch", id});
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.err.find("Unknown queue nosuch"), std::string::npos) << unknown.err;
  ASSERT_EQ(qmgr("set queue other enabled=false").code, 0);
  Result closed = c.cmd(kUser, {"qmove", "other", id});
  EXPECT_NE(closed.err.find("Queue is not enabled"), std::string::npos) << closed.err;
  ASSERT_EQ(qmgr("set queue other enabled=true").code, 0);
  Result ok = c.cmd(kUser, {"qmove", "other@" + c.attr(id, "server"), id});
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(c.attr(id, "queue"), "other");
  // qalter -q is the same move.
  Result alter = c.cmd(kUser, {"qalter", "-q", "batch", id});
  EXPECT_EQ(alter.code, 0) << alter.err;
  EXPECT_EQ(c.attr(id, "queue"), "batch");
  EXPECT_NE(c.cmd(kOther, {"qalter", "-q", "other", id}).code, 0);
  EXPECT_EQ(c.attr(id, "queue"), "batch");
  // A running job stays where it is.
  std::string run = c.submit(kUser, "sleep 30\n");
  ASSERT_TRUE(c.wait_state(run, "R", 20));
  Result running = c.cmd(kUser, {"qmove", "other", run});
  EXPECT_NE(running.code, 0);
  EXPECT_NE(running.err.find("Request invalid for state of job"), std::string::npos) << running.err;
}

TEST_F(Commands, QorderSwapsSchedulingPlaces) {
  std::string first = c.submit(kUser, "true\n", {"-h"});
  std::string second = c.submit(kUser, "true\n", {"-h"});
  std::string others = c.submit(kOther, "true\n", {"-h"});
  ASSERT_FALSE(first.empty() || second.empty() || others.empty());
  Result denied = c.cmd(kOther, {"qorder", first, second});
  EXPECT_NE(denied.code, 0);
  EXPECT_NE(denied.err.find("Unauthorized Request"), std::string::npos) << denied.err;
  EXPECT_NE(c.cmd(kUser, {"qorder", first, others}).code, 0);  // one of them is not theirs
  EXPECT_EQ(c.attr(first, "queue_rank"), "");
  Result ok = c.cmd(kUser, {"qorder", first, second});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(c.attr(first, "queue_rank"), seq_of(second));
  EXPECT_EQ(c.attr(second, "queue_rank"), seq_of(first));
  EXPECT_EQ(c.cmd(kUser, {"qorder", first}).code, 2);
}

TEST_F(Commands, QorderedJobStartsFirst) {
  std::string nodes = c.cmd("", {"pbsnodes", "-a"}).out;
  std::string node = nodes.substr(0, nodes.find('\n'));
  ASSERT_EQ(qmgr("set node " + node + " np=1").code, 0);  // one job at a time
  ASSERT_EQ(qmgr("set server scheduling=false").code, 0);
  std::string first = c.submit(kUser, "sleep 30\n");
  std::string second = c.submit(kUser, "sleep 30\n");
  ASSERT_FALSE(first.empty() || second.empty());
  ASSERT_EQ(c.cmd(kUser, {"qorder", first, second}).code, 0);
  ASSERT_EQ(qmgr("set server scheduling=true").code, 0);
  EXPECT_TRUE(c.wait_state(second, "R", 20));
  EXPECT_EQ(c.attr(first, "job_state"), "Q");
}

TEST_F(Commands, QmsgAppendsToTheRunningJobsFilesAsItsOwner) {
  std::string id = c.submit(kUser, "echo started; sleep 60\n", {"-N", "msgjob"});
  ASSERT_TRUE(c.wait_state(id, "R", 20));
  std::string dir = c.workdir(kUser);
  std::string err = dir + "/msgjob.e" + seq_of(id), out = dir + "/msgjob.o" + seq_of(id);
  ASSERT_TRUE(wait_for([&] { return slurp(out).find("started") != std::string::npos; }, 10s));
  Result denied = c.cmd(kOther, {"qmsg", "not yours", id});
  EXPECT_NE(denied.code, 0);
  EXPECT_NE(denied.err.find("Unauthorized Request"), std::string::npos) << denied.err;
  ASSERT_EQ(c.cmd(kUser, {"qmsg", "to the error file", id}).code, 0);
  ASSERT_EQ(c.cmd("", {"qmsg", "-O", "from the admin", id}).code, 0);
  EXPECT_TRUE(wait_for([&] { return slurp(err).find("to the error file\n") != std::string::npos; }, 10s)) << slurp(err);
  EXPECT_TRUE(wait_for([&] { return slurp(out).find("from the admin\n") != std::string::npos; }, 10s)) << slurp(out);
  EXPECT_EQ(slurp(err).find("not yours"), std::string::npos);
  struct stat st{};
  ASSERT_EQ(::stat(err.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ensure_user(kUser));
  std::string queued = c.submit(kUser, "true\n", {"-h"});
  Result not_running = c.cmd(kUser, {"qmsg", "hello", queued});
  EXPECT_NE(not_running.code, 0);
  EXPECT_NE(not_running.err.find("job is not running"), std::string::npos) << not_running.err;
  EXPECT_EQ(c.cmd(kUser, {"qmsg", id}).code, 2);
  // No mom to write it: the sender hears so.
  c.kill_mom(SIGKILL);
  Result r;
  EXPECT_TRUE(wait_for([&] { r = c.cmd(kUser, {"qmsg", "lost", id}); return r.code != 0; }, 10s));
  EXPECT_NE(r.err.find("is not connected; no message sent"), std::string::npos) << r.err;
}

TEST_F(Commands, QueueStateCommandsNeedAnOperator) {
  for (const char* cmd : {"qdisable", "qenable", "qstop", "qstart"}) {
    Result denied = c.cmd(kUser, {cmd, "batch"});
    EXPECT_NE(denied.code, 0) << cmd;
    EXPECT_NE(denied.err.find("Unauthorized Request"), std::string::npos) << cmd << ": " << denied.err;
  }
  Result unknown = c.cmd("", {"qenable", "nosuch"});
  EXPECT_NE(unknown.code, 0);
  EXPECT_NE(unknown.err.find("Unknown queue nosuch"), std::string::npos) << unknown.err;
  ASSERT_EQ(c.cmd("", {"qdisable", "batch"}).code, 0);
  Result refused = c.cmd(kUser, {"qsub"}, c.workdir(kUser), "true\n");
  EXPECT_NE(refused.code, 0);
  EXPECT_NE(refused.err.find("Queue is not enabled"), std::string::npos) << refused.err;
  ASSERT_EQ(c.cmd("", {"qenable", "batch"}).code, 0);
  ASSERT_EQ(c.cmd("", {"qstop", "batch"}).code, 0);
  std::string id = c.submit(kUser, "true\n");
  ASSERT_FALSE(id.empty());
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(c.attr(id, "job_state"), "Q") << "a stopped queue starts no job";
  ASSERT_EQ(c.cmd("", {"qstart", "batch"}).code, 0);
  EXPECT_TRUE(c.wait_state(id, "C", 20));
}

TEST_F(Commands, QdelAllDeletesOwnJobsAndAManagersAll) {
  std::string a = c.submit(kUser, "true\n", {"-h"});
  std::string b = c.submit(kUser, "true\n", {"-h"});
  std::string o = c.submit(kOther, "true\n", {"-h"});
  ASSERT_FALSE(a.empty() || b.empty() || o.empty());
  ASSERT_EQ(c.cmd(kUser, {"qdel", "all"}).code, 0);
  EXPECT_TRUE(c.wait_state(a, "C", 10));
  EXPECT_TRUE(c.wait_state(b, "C", 10));
  EXPECT_EQ(c.attr(o, "job_state"), "H") << "another user's job stays";
  ASSERT_EQ(c.cmd("", {"qdel", "ALL"}).code, 0);
  EXPECT_TRUE(c.wait_state(o, "C", 10));
}

TEST_F(Commands, QalterDependMakesAJobWaitAndFollow) {
  std::string parent = c.submit(kUser, "true\n", {"-h"});
  std::string child = c.submit(kUser, "true\n", {"-h"});
  ASSERT_FALSE(parent.empty() || child.empty());
  ASSERT_EQ(c.cmd(kUser, {"qrls", child}).code, 0);
  EXPECT_TRUE(c.wait_state(child, "C", 20)) << "without a dependency it runs";
  std::string waiter = c.submit(kUser, "true\n", {"-h"});
  Result bad = c.cmd(kUser, {"qalter", "-W", "depend=afterok:99999", waiter});
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("Unknown Job Id 99999"), std::string::npos) << bad.err;
  Result ok = c.cmd(kUser, {"qalter", "-W", "depend=afterok:" + parent, waiter});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(c.attr(waiter, "depend"), "afterok:" + parent);
  ASSERT_EQ(c.cmd(kUser, {"qrls", waiter}).code, 0);
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(c.attr(waiter, "job_state"), "H") << "it waits for " << parent;
  ASSERT_EQ(c.cmd(kUser, {"qrls", parent}).code, 0);
  EXPECT_TRUE(c.wait_state(parent, "C", 20));
  EXPECT_TRUE(c.wait_state(waiter, "C", 20)) << "released when its parent succeeded";
  EXPECT_EQ(c.attr(waiter, "exit_status"), "0");
  // An empty list removes the dependencies: the held job is free to run.
  std::string held = c.submit(kUser, "true\n", {"-h"});
  std::string blocker = c.submit(kUser, "true\n", {"-h"});
  ASSERT_EQ(c.cmd(kUser, {"qalter", "-W", "depend=afterany:" + blocker, held}).code, 0);
  ASSERT_EQ(c.cmd(kUser, {"qrls", held}).code, 0);
  EXPECT_EQ(c.attr(held, "job_state"), "H");
  Result cleared = c.cmd(kUser, {"qalter", "-W", "depend=", held});
  ASSERT_EQ(cleared.code, 0) << cleared.err;
  EXPECT_EQ(c.attr(held, "depend"), "");
  EXPECT_TRUE(c.wait_state(held, "C", 20));
  // Another user's job is not theirs to alter.
  EXPECT_NE(c.cmd(kOther, {"qalter", "-W", "depend=afterany:" + held, blocker}).code, 0);
  EXPECT_EQ(c.attr(blocker, "depend"), "");
}

TEST_F(Commands, QtermNeedsAManagerAndQuickLeavesJobsRunning) {
  std::string id = c.submit(kUser, "sleep 60\n");
  ASSERT_TRUE(c.wait_state(id, "R", 20));
  Result denied = c.cmd(kUser, {"qterm"});
  EXPECT_NE(denied.code, 0);
  EXPECT_NE(denied.err.find("Unauthorized Request"), std::string::npos) << denied.err;
  EXPECT_EQ(c.cmd("", {"qterm", "-t", "sometime"}).code, 2);
  pid_t server = c.server_pid();
  ASSERT_GT(server, 0);
  Result term = c.cmd("", {"qterm", "-t", "quick"});
  ASSERT_EQ(term.code, 0) << term.err;
  EXPECT_TRUE(wait_for([&] { return process_gone(server); }, 10s));
  ASSERT_TRUE(c.start_server(false));
  EXPECT_TRUE(c.wait_state(id, "R", 20)) << "the job ran on under its mom";
}

TEST_F(Commands, QtermImmediateRequeuesRerunableJobsAndKillsTheOthers) {
  std::string rerun = c.submit(kUser, "sleep 60\n");
  std::string once = c.submit(kUser, "sleep 60\n", {"-r", "n"});
  ASSERT_TRUE(c.wait_state(rerun, "R", 20));
  ASSERT_TRUE(c.wait_state(once, "R", 20));
  ASSERT_EQ(qmgr("set server scheduling=false").code, 0);  // the requeued job stays queued
  pid_t server = c.server_pid();
  ASSERT_EQ(c.cmd("", {"qterm", "-t", "immediate"}).code, 0);
  EXPECT_TRUE(wait_for([&] { return process_gone(server); }, 30s));
  ASSERT_TRUE(c.start_server(false));
  EXPECT_EQ(c.attr(rerun, "job_state"), "Q");
  EXPECT_EQ(c.attr(once, "job_state"), "C");
}

TEST_F(Commands, PrintjobShowsTheWholeRecordToRootOnly) {
  std::string id = c.submit(kUser, "echo printed-script; sleep 60\n", {"-N", "pj"});
  ASSERT_TRUE(c.wait_state(id, "R", 20));
  Result r = c.cmd("", {"printjob", "-s", id});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("jobid:\t" + id + "\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("state:\t\tR (running)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--attributes--\n"), std::string::npos);
  EXPECT_NE(r.out.find("\neuser = reprise_u1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--script--\necho printed-script"), std::string::npos) << r.out;
  Result no_attrs = c.cmd("", {"printjob", "-a", id});
  EXPECT_EQ(no_attrs.out.find("--attributes--"), std::string::npos);
  // The server marks the job running as it sends it; the mom's record follows.
  std::string record = c.home() + "/mom_priv/jobs/" + id + ".JB";
  ASSERT_TRUE(wait_for([&] { return !slurp(record).empty(); }, 10s));
  Result mom = c.cmd("", {"printjob", record});
  ASSERT_EQ(mom.code, 0) << mom.err;
  EXPECT_NE(mom.out.find("jobid:\t" + id + "\n"), std::string::npos) << mom.out;
  EXPECT_NE(mom.out.find("\nJob_Name = pj\n"), std::string::npos) << mom.out;
  Result user = c.cmd(kUser, {"printjob", id});
  EXPECT_NE(user.code, 0);
  EXPECT_EQ(user.err, "printjob: must be run as root\n");
  EXPECT_NE(c.cmd("", {"printjob", "99999"}).code, 0);
}

}  // namespace
