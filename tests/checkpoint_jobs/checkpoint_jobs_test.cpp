// Checkpointable jobs end to end (issue 5): real pbs_server + pbs_mom (tests/batch
// harness), jobs run under cr_run, qhold checkpoints and stops them, qrls restarts
// them from their image. Every test checks the job's output file exactly: each count
// once, in order, nothing missing or repeated.
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "ck_fixture.h"
#include "harness.h"

using namespace reprise::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

using namespace reprise::test::ck;

namespace {

// 1. qsub -c: bad values refused, good ones stored in Checkpoint; #PBS -c works.
TEST_F(CkJobs, QsubCValidation) {
  for (std::string bad : {"bogus", "interval=abc", "depth=x", "enabled,bogus", "c=x", "interval=", ""}) {
    Result r = c.cmd(kUser, {"qsub", "-h", "-c", bad}, work_, "true\n");
    EXPECT_NE(r.code, 0) << "-c '" << bad << "' accepted: " << r.out;
    if (!bad.empty()) {
      EXPECT_NE(r.err.find("illegal -c value"), std::string::npos) << bad << ": " << r.err;
    }
  }
  for (std::string good : {"none", "enabled", "shutdown", "periodic", "interval=5", "depth=3", "dir=/tmp",
                           "enabled,periodic,shutdown,interval=1", "periodic,interval=2,depth=4,dir=/tmp", "n", "s",
                           "c", "c=7"}) {
    Result r = c.cmd(kUser, {"qsub", "-h", "-c", good}, work_, "true\n");
    ASSERT_EQ(r.code, 0) << good << ": " << r.err;
    std::string id = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(c.attr(id, "Checkpoint"), good);
    c.cmd("", {"qdel", id});
  }
  Result r = c.cmd(kUser, {"qsub", "-h"}, work_, "#!/bin/bash\n#PBS -c enabled,shutdown\ntrue\n");
  ASSERT_EQ(r.code, 0) << r.err;
  std::string id = r.out.substr(0, r.out.find('\n'));
  EXPECT_EQ(c.attr(id, "Checkpoint"), "enabled,shutdown");
  r = c.cmd(kUser, {"qsub", "-h"}, work_, "#!/bin/bash\n#PBS -c wrong\ntrue\n");
  EXPECT_NE(r.code, 0) << "#PBS -c wrong accepted";
  // The command line overrides the directive.
  r = c.cmd(kUser, {"qsub", "-h", "-c", "periodic"}, work_, "#!/bin/bash\n#PBS -c enabled\ntrue\n");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(c.attr(r.out.substr(0, r.out.find('\n')), "Checkpoint"), "periodic");
}

// 2. qhold -> H with checkpoint attributes and a 0400 image in a 0700 dir; qrls -> exact output.
TEST_F(CkJobs, HoldCheckpointsAndReleaseRestarts) {
  std::string id = submit_counting({"-c", "enabled"}, 40, 150);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "R", 30));
  ASSERT_TRUE(wait_lines(id, 6)) << why(id);
  hold_and_check(id);
  ASSERT_EQ(c.cmd(kUser, {"qrls", id}).code, 0);
  ASSERT_TRUE(c.wait_state(id, "R", 30)) << why(id);
  ASSERT_TRUE(c.wait_state(id, "C", 60)) << why(id);
  EXPECT_EQ(c.attr(id, "exit_status"), "0") << why(id);
  EXPECT_EQ(slurp(out_of(id)), expected_counts(40)) << why(id);
}

// 3. A restarted job is checkpointable again: hold, release, hold, release.
TEST_F(CkJobs, HoldReleaseTwice) {
  std::string id = submit_counting({"-c", "enabled"}, 50, 120);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(wait_lines(id, 5)) << why(id);
  hold_and_check(id);
  std::string first = c.attr(id, "checkpoint_name");
  size_t at_first = count_lines(out_of(id));
  ASSERT_EQ(c.cmd(kUser, {"qrls", id}).code, 0);
  ASSERT_TRUE(c.wait_state(id, "R", 30)) << why(id);
  ASSERT_TRUE(wait_lines(id, at_first + 8)) << why(id);
  hold_and_check(id);
  EXPECT_NE(c.attr(id, "checkpoint_name"), first) << "second hold must make a new image";
  release_and_finish(id, 50);
}

// 4. qchkpt: an image, the job keeps running.
TEST_F(CkJobs, QchkptTakesImageWithoutStopping) {
  std::string id = submit_counting({"-c", "enabled"}, 40, 150);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(wait_lines(id, 5)) << why(id);
  EXPECT_TRUE(c.attr(id, "checkpoint_name").empty()) << "no image yet, no checkpoint_name";
  ASSERT_EQ(c.cmd(kUser, {"qchkpt", id}).code, 0);
  ASSERT_TRUE(wait_for([&] { return !c.attr(id, "checkpoint_name").empty(); }, 30s)) << why(id);
  std::string name = c.attr(id, "checkpoint_name");
  EXPECT_FALSE(c.attr(id, "checkpoint_time").empty());
  EXPECT_EQ(c.attr(id, "job_state"), "R");
  struct stat st{};
  EXPECT_EQ(::stat((ck_dir(id) + "/" + name).c_str(), &st), 0) << ck_dir(id) << "/" << name;
  size_t n = count_lines(out_of(id));
  EXPECT_TRUE(wait_lines(id, n + 3, 10)) << "the job must keep running after qchkpt" << why(id);
  ASSERT_TRUE(c.wait_state(id, "C", 60)) << why(id);
  EXPECT_EQ(c.attr(id, "exit_status"), "0");
  EXPECT_EQ(slurp(out_of(id)), expected_counts(40)) << why(id);
  // A non-checkpointable job is refused.
  std::string plain = submit_counting({}, 20, 100);
  ASSERT_TRUE(c.wait_state(plain, "R", 30));
  EXPECT_NE(c.cmd(kUser, {"qchkpt", plain}).code, 0);
  ASSERT_TRUE(c.wait_state(plain, "C", 30));
}

// 5. periodic,interval=1,depth=2 with 1-second "minutes": several images, never more than 2 kept.
TEST_F(CkJobs, PeriodicWithDepth) {
  mom_config({"$checkpoint_interval_unit 1"});
  std::string id = submit_counting({"-c", "periodic,interval=1,depth=2"}, 70, 100);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "R", 30));
  std::string dir;
  std::set<std::string> seen;
  size_t most = 0;
  std::set<std::string> names;
  while (c.attr(id, "job_state") == "R") {
    if (dir.empty() && !c.attr(id, "checkpoint_dir").empty()) dir = ck_dir(id);
    std::string nm = c.attr(id, "checkpoint_name");
    if (!dir.empty()) {
      auto v = images_in(dir);
      seen.insert(v.begin(), v.end());
      // A checkpoint writes its image, then prunes the oldest: depth+1 images exist for a
      // moment. Count only right after a checkpoint has been reported (pruning is done by
      // then; the next one is a second away).
      if (!nm.empty() && !names.count(nm)) most = std::max(most, v.size());
    }
    if (!nm.empty()) names.insert(nm);
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(c.wait_state(id, "C", 30)) << why(id);
  EXPECT_EQ(c.attr(id, "exit_status"), "0");
  EXPECT_EQ(slurp(out_of(id)), expected_counts(70)) << why(id);
  EXPECT_GE(seen.size(), 3u) << "periodic checkpoints every ~1 s over ~7 s" << why(id);
  EXPECT_GE(names.size(), 3u) << "checkpoint_name follows the newest image";
  EXPECT_LE(most, 2u) << "depth=2 keeps at most 2 images";
  EXPECT_LE(images_in(dir).size(), 2u);
}

// 6. shutdown: SIGTERM to pbs_mom checkpoints the job; the mom back -> requeued, restarted, exact output.
TEST_F(CkJobs, MomShutdownCheckpointsAndRequeues) {
  std::string id = submit_counting({"-c", "shutdown"}, 40, 150);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(wait_lines(id, 6)) << why(id);
  c.kill_mom(SIGTERM);
  ASSERT_FALSE(c.mom_pid() > 0 && ::kill(c.mom_pid(), 0) == 0 &&
               slurp("/proc/" + std::to_string(c.mom_pid()) + "/stat").find(") Z") == std::string::npos)
      << "pbs_mom did not stop on SIGTERM";
  std::string dir = c.home() + "/checkpoint/" + id + ".CK";
  EXPECT_FALSE(images_in(dir).empty()) << "no image in " << dir << "\n" << tail(mom_log(), 3000);
  size_t at_stop = count_lines(out_of(id));
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(count_lines(out_of(id)), at_stop) << "the job must be stopped with its mom";
  ASSERT_TRUE(c.start_mom());
  ASSERT_TRUE(wait_for([&] { return c.attr(id, "job_state") == "C" || count_lines(out_of(id)) > at_stop + 2; }, 60s))
      << why(id);
  ASSERT_TRUE(c.wait_state(id, "C", 60)) << why(id);
  EXPECT_EQ(c.attr(id, "exit_status"), "0") << why(id);
  EXPECT_EQ(slurp(out_of(id)), expected_counts(40)) << why(id);
}

// 6b. qterm -t delay: the server has the job checkpointed, stopped and requeued before it stops;
// the next server start restarts it from the image, with exact output.
TEST_F(CkJobs, QtermDelayCheckpointsAndRequeues) {
  std::string id = submit_counting({"-c", "enabled"}, 40, 150);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(wait_lines(id, 6)) << why(id);
  pid_t server = c.server_pid();
  ASSERT_EQ(c.cmd("", {"qterm", "-t", "delay"}).code, 0);
  ASSERT_TRUE(wait_for([&] { return process_gone(server); }, 60s)) << "pbs_server did not stop\n" << why(id);
  std::string dir = c.home() + "/checkpoint/" + id + ".CK";
  EXPECT_FALSE(images_in(dir).empty()) << "no image in " << dir << "\n" << tail(mom_log(), 3000);
  size_t at_stop = count_lines(out_of(id));
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(count_lines(out_of(id)), at_stop) << "the job must be stopped before the server stops";
  ASSERT_TRUE(c.start_server(false));
  ASSERT_TRUE(c.wait_state(id, "C", 60)) << why(id);
  EXPECT_EQ(c.attr(id, "exit_status"), "0") << why(id);
  EXPECT_EQ(slurp(out_of(id)), expected_counts(40)) << why(id);
}

// 7. A running job that is not checkpointable keeps running when held, and completes.
TEST_F(CkJobs, HoldOfNonCheckpointableRunningJobKeepsItRunning) {
  std::string id = submit_counting({}, 30, 100);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(wait_lines(id, 3)) << why(id);
  ASSERT_EQ(c.cmd(kUser, {"qhold", id}).code, 0);
  size_t n = count_lines(out_of(id));
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(c.attr(id, "job_state"), "R");
  EXPECT_GT(count_lines(out_of(id)), n) << "the job must keep running";
  ASSERT_TRUE(c.wait_state(id, "C", 30)) << why(id);
  EXPECT_EQ(c.attr(id, "exit_status"), "0");
  EXPECT_EQ(slurp(out_of(id)), expected_counts(30)) << why(id);
  EXPECT_TRUE(c.attr(id, "checkpoint_name").empty());
}

// 8. checkpoint_dir from the queue (qmgr), overridden per job (-c dir=).
TEST_F(CkJobs, CheckpointDirPerQueueAndPerJob) {
  std::string qdir = c.tmp() + "/queue-ck", jdir = c.tmp() + "/job-ck";
  ::mkdir(qdir.c_str(), 0755);
  ::mkdir(jdir.c_str(), 0755);
  // -c dir= names a directory of the user's: the mom works there as the user.
  ASSERT_EQ(::chown(jdir.c_str(), uid_, getpwnam(kUser)->pw_gid), 0);
  Result r = c.cmd("", {"qmgr", "-c", "set queue batch checkpoint_dir=" + qdir});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string a = submit_counting({"-c", "enabled"}, 30, 150);
  std::string b = submit_counting({"-c", "enabled,dir=" + jdir}, 30, 150);
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  ASSERT_TRUE(wait_lines(a, 4)) << why(a);
  ASSERT_TRUE(wait_lines(b, 4)) << why(b);
  hold_and_check(a);
  hold_and_check(b);
  std::string an = c.attr(a, "checkpoint_name"), bn = c.attr(b, "checkpoint_name");
  struct stat st{};
  EXPECT_EQ(::stat((qdir + "/" + a + ".CK/" + an).c_str(), &st), 0) << "queue checkpoint_dir: " << why(a);
  EXPECT_EQ(::stat((jdir + "/" + b + ".CK/" + bn).c_str(), &st), 0) << "-c dir=: " << why(b);
  EXPECT_NE(::stat((c.home() + "/checkpoint/" + a + ".CK").c_str(), &st), 0) << "not in the default dir";
  EXPECT_EQ(c.attr(a, "checkpoint_dir").rfind(qdir, 0), 0u) << c.attr(a, "checkpoint_dir");
  EXPECT_EQ(c.attr(b, "checkpoint_dir").rfind(jdir, 0), 0u) << c.attr(b, "checkpoint_dir");
  release_and_finish(a, 30);
  release_and_finish(b, 30);
}

// 8b. Default checkpoint dir: PBS_HOME/checkpoint.
TEST_F(CkJobs, DefaultCheckpointDirIsPbsHomeCheckpoint) {
  std::string id = submit_counting({"-c", "enabled"}, 25, 150);
  ASSERT_TRUE(wait_lines(id, 4)) << why(id);
  hold_and_check(id);
  struct stat st{};
  EXPECT_EQ(::stat((c.home() + "/checkpoint/" + id + ".CK/" + c.attr(id, "checkpoint_name")).c_str(), &st), 0)
      << why(id);
  release_and_finish(id, 25);
}

// 9. qalter -W checkpoint_name=OLDER: the restart resumes right after the older image.
TEST_F(CkJobs, QalterCheckpointNameRestartsFromOlderImage) {
  std::string id = submit_counting({"-c", "enabled"}, 60, 150);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(wait_lines(id, 5)) << why(id);
  size_t before_a = count_lines(out_of(id));
  ASSERT_EQ(c.cmd(kUser, {"qchkpt", id}).code, 0);
  ASSERT_TRUE(wait_for([&] { return !c.attr(id, "checkpoint_name").empty(); }, 30s)) << why(id);
  size_t after_a = count_lines(out_of(id));
  std::string older = c.attr(id, "checkpoint_name");
  ASSERT_TRUE(wait_lines(id, after_a + 12)) << why(id);
  hold_and_check(id);
  size_t at_hold = count_lines(out_of(id));
  ASSERT_NE(c.attr(id, "checkpoint_name"), older);
  Result r = c.cmd(kUser, {"qalter", "-W", "checkpoint_name=" + older, id});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(c.attr(id, "checkpoint_name"), older);
  ASSERT_EQ(c.cmd(kUser, {"qrls", id}).code, 0);
  long lowest = lowest_after_cut(id, at_hold, 30);
  ASSERT_GE(lowest, 0) << "the output was not cut back to the older image" << why(id);
  EXPECT_GE(size_t(lowest), before_a) << "resumed before the older image";
  EXPECT_LE(size_t(lowest), after_a + 1) << "did not resume from the older image";
  ASSERT_TRUE(c.wait_state(id, "C", 60)) << why(id);
  EXPECT_EQ(c.attr(id, "exit_status"), "0");
  EXPECT_EQ(slurp(out_of(id)), expected_counts(60)) << why(id);
}

// 10. qrerun of a completed job with an image: Q, runs, restarts from its latest image.
TEST_F(CkJobs, QrerunCompletedJobRestartsFromLatestImage) {
  std::string id = submit_counting({"-c", "enabled"}, 30, 120);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(wait_lines(id, 10)) << why(id);
  size_t before = count_lines(out_of(id));
  ASSERT_EQ(c.cmd(kUser, {"qchkpt", id}).code, 0);
  ASSERT_TRUE(wait_for([&] { return !c.attr(id, "checkpoint_name").empty(); }, 30s)) << why(id);
  size_t after = count_lines(out_of(id));
  ASSERT_TRUE(c.wait_state(id, "C", 60)) << why(id);
  EXPECT_EQ(c.attr(id, "exit_status"), "0");
  EXPECT_EQ(slurp(out_of(id)), expected_counts(30));
  Result r = c.cmd("", {"qrerun", id});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string st = c.attr(id, "job_state");
  EXPECT_TRUE(st == "Q" || st == "R") << st;
  long lowest = lowest_after_cut(id, 30, 30);
  ASSERT_GE(lowest, 0) << "the rerun did not rewrite the output" << why(id);
  EXPECT_GE(size_t(lowest), before) << "the rerun started from scratch, not from the image" << why(id);
  EXPECT_LE(size_t(lowest), after + 1);
  ASSERT_TRUE(c.wait_state(id, "C", 60)) << why(id);
  EXPECT_EQ(c.attr(id, "exit_status"), "0") << why(id);
  EXPECT_EQ(slurp(out_of(id)), expected_counts(30)) << why(id);
}

// 11a. $checkpoint_script / $restart_script = the shipped default scripts.
TEST_F(CkJobs, ShippedCheckpointAndRestartScripts) {
  // The seed ships its scripts 0754 root: pbs_mom runs them as the job's owner (through
  // their #! interpreter when the owner may only read them); nobody else may change them.
  for (const char* s : {"reprise_checkpoint_script", "reprise_restart_script"}) {
    struct stat st{};
    ASSERT_EQ(::stat(bin(s).c_str(), &st), 0) << s;
    EXPECT_EQ(st.st_mode & 0777, 0754u) << s;
    Result r = run({"test", "-r", bin(s)}, kUser);
    EXPECT_EQ(r.code, 0) << s << " is not readable by the job owner " << kUser;
  }
  mom_config({"$checkpoint_script " + bin("reprise_checkpoint_script"),
              "$restart_script " + bin("reprise_restart_script")});
  std::string id = submit_counting({"-c", "enabled"}, 40, 150);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(wait_lines(id, 5)) << why(id);
  hold_and_check(id);
  release_and_finish(id, 40);
}

// 11a'. The same scripts with the seed's argument lists, copied (mode 0755) next to links
// to cr_checkpoint/cr_restart: scripts the owner may execute directly.
TEST_F(CkJobs, ShippedScriptsRunAsOwnerWhenExecutable) {
  std::string dir = c.tmp() + "/scripts";
  ::mkdir(dir.c_str(), 0755);
  for (const char* s : {"reprise_checkpoint_script", "reprise_restart_script"}) {
    fs::copy_file(bin(s), dir + "/" + s);
    ::chmod((dir + "/" + s).c_str(), 0755);
  }
  for (const char* p : {"cr_checkpoint", "cr_restart"}) fs::create_symlink(bin(p), dir + "/" + p);
  mom_config({"$checkpoint_script " + dir + "/reprise_checkpoint_script",
              "$restart_script " + dir + "/reprise_restart_script"});
  std::string id = submit_counting({"-c", "enabled"}, 40, 150);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(wait_lines(id, 5)) << why(id);
  hold_and_check(id);
  release_and_finish(id, 40);
  EXPECT_EQ(mom_log().find("checkpoint failed"), std::string::npos) << tail(mom_log(), 3000);
}

// 11b. A failing $checkpoint_script: the job is not lost, the failure is visible.
TEST_F(CkJobs, FailingCheckpointScriptKeepsJobRunning) {
  std::string script = c.tmp() + "/failing_checkpoint_script";
  spit(script, "#!/bin/sh\necho \"simulated checkpoint failure for $2\" >&2\nexit 1\n", 0755);
  mom_config({"$checkpoint_script " + script});
  std::string id = submit_counting({"-c", "enabled"}, 40, 150);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(wait_lines(id, 5)) << why(id);
  ASSERT_EQ(c.cmd(kUser, {"qhold", id}).code, 0);
  ASSERT_TRUE(wait_for([&] { return c.attr(id, "comment").find("checkpoint failed") != std::string::npos; }, 30s))
      << why(id);
  EXPECT_NE(c.attr(id, "comment").find("simulated checkpoint failure"), std::string::npos) << c.attr(id, "comment");
  EXPECT_EQ(c.attr(id, "job_state"), "R");
  EXPECT_TRUE(c.attr(id, "checkpoint_name").empty());
  EXPECT_NE(mom_log().find("checkpoint failed"), std::string::npos) << tail(mom_log(), 3000);
  size_t n = count_lines(out_of(id));
  EXPECT_TRUE(wait_lines(id, n + 3, 10)) << "the job must keep running" << why(id);
  ASSERT_TRUE(c.wait_state(id, "C", 60)) << why(id);
  EXPECT_EQ(c.attr(id, "exit_status"), "0");
  EXPECT_EQ(slurp(out_of(id)), expected_counts(40)) << why(id);
}

// 12. The seed's walk-through, word for word, with the seed's numbers: test.c counting to
// 99 once a second, test.sh, qsub -c enabled,periodic,shutdown,interval=1 test.sh, qstat,
// qhold, qstat -f (checkpoint_dir, checkpoint_name), qrls, the count continues to 99.
TEST(CkSeed, WalkThroughWordForWord) {
  // One user per checkout (stable across reruns), so checkouts testing at once do not share a home.
  std::string exe = std::filesystem::canonical("/proc/self/exe").string();
  std::string user_name = "rseed" + std::to_string(std::hash<std::string>{}(exe) % 100000);
  const char* user = user_name.c_str();
  uid_t uid = ensure_user(user);
  Cluster c;
  ASSERT_TRUE(c.ok());
  passwd* pw = getpwnam(user);
  ASSERT_NE(pw, nullptr);
  // The user works in a directory of their own, as in the chapter; the job's
  // `./test` runs in the submission directory (-d is the demo's, not the seed's:
  // TORQUE starts jobs in $HOME, so we work in $HOME).
  std::string home = pw->pw_dir;
  std::string dir = home;
  const std::string test_c =
      "#include \"stdio.h\"\n"
      "int main( int argc, char *argv[] )\n"
      "{\n"
      "int i;\n"
      "        for (i=0; i<100; i++)\n"
      "        {\n"
      "                printf(\"i = %d\\n\", i);\n"
      "                fflush(stdout);\n"
      "                sleep(1);\n"
      "        }\n"
      "}\n";
  for (const char* f : {"test.c", "test.sh", "test"}) ::unlink((dir + "/" + f).c_str());
  spit(dir + "/test.c", test_c);
  spit(dir + "/test.sh", "#!/bin/bash\n\n./test\n", 0755);
  ASSERT_EQ(::chown((dir + "/test.c").c_str(), uid, pw->pw_gid), 0);
  ASSERT_EQ(::chown((dir + "/test.sh").c_str(), uid, pw->pw_gid), 0);
  //  >  gcc -o test test.c
  Result r = run({"gcc", "-o", "test", "test.c"}, user, {}, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  //  >  qstat
  r = c.cmd(user, {"qstat"}, dir);
  EXPECT_EQ(r.code, 0) << r.err;
  //  >  qsub -c enabled,periodic,shutdown,interval=1 test.sh
  r = c.cmd(user, {"qsub", "-c", "enabled,periodic,shutdown,interval=1", "test.sh"}, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  std::string id = r.out.substr(0, r.out.find('\n'));
  ASSERT_FALSE(id.empty());
  std::string seq = seq_of(id);
  //  >  qstat
  r = c.cmd(user, {"qstat"}, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  // The seed's header reads "Job id" (TORQUE 2.4); ours reads "Job ID" like later TORQUEs.
  EXPECT_TRUE(r.out.find("Job id") != std::string::npos || r.out.find("Job ID") != std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Name             User            Time Use S Queue"), std::string::npos) << r.out;
  std::string row;
  {
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line))
      if (line.rfind(seq + ".", 0) == 0) row = line;
  }
  ASSERT_FALSE(row.empty()) << r.out;
  EXPECT_NE(row.find("test.sh"), std::string::npos) << row;
  EXPECT_NE(row.find(user), std::string::npos) << row;
  EXPECT_NE(row.find("batch"), std::string::npos) << row;
  EXPECT_TRUE(row.find(" Q ") != std::string::npos || row.find(" R ") != std::string::npos) << row;
  // "If you have no scheduler running, you might need to start the job with qrun."
  if (row.find(" Q ") != std::string::npos && !c.wait_state(id, "R", 5)) c.cmd("", {"qrun", id});
  ASSERT_TRUE(c.wait_state(id, "R", 30));
  std::string out = dir + "/test.sh.o" + seq;
  // "As this program runs, it writes its output to a file ... observed with tail -f."
  ASSERT_TRUE(wait_for([&] { return count_lines(out) >= 10; }, 30s)) << slurp(out);
  //  >  qhold 77.jakaa
  r = c.cmd(user, {"qhold", id}, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(c.wait_state(id, "H", 60)) << c.cmd("", {"qstat", "-f", id}).out;
  r = c.cmd(user, {"qstat"}, dir);
  EXPECT_NE(r.out.find(" H "), std::string::npos) << r.out;
  //  >  qstat -f 77.jakaa   (checkpoint_dir and checkpoint_name)
  r = c.cmd(user, {"qstat", "-f", id}, dir);
  EXPECT_NE(r.out.find("    checkpoint_dir = "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("    checkpoint_name = "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("    Checkpoint = enabled,periodic,shutdown,interval=1"), std::string::npos) << r.out;
  std::string name = c.attr(id, "checkpoint_name");
  EXPECT_EQ(c.attr(id, "checkpoint_dir").rfind(c.home() + "/checkpoint", 0), 0u)
      << "default directory PBS_HOME/checkpoint: " << c.attr(id, "checkpoint_dir");
  size_t held_at = count_lines(out);
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(count_lines(out), held_at) << "the held job is stopped";
  //  >  qrls 77.jakaa
  r = c.cmd(user, {"qrls", id}, dir);
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_TRUE(c.wait_state(id, "R", 30)) << c.cmd("", {"qstat", "-f", id}).out;
  // tail -f: the count continues where it stopped, up to 99.
  ASSERT_TRUE(wait_for([&] { return count_lines(out) >= held_at + 3; }, 20s)) << slurp(out);
  ASSERT_TRUE(c.wait_state(id, "C", 150)) << c.cmd("", {"qstat", "-f", id}).out << slurp(out);
  EXPECT_EQ(c.attr(id, "exit_status"), "0");
  EXPECT_EQ(slurp(out), expected_counts(100, "i = "));
  // interval=1: a periodic image after a minute of running, besides the hold's.
  EXPECT_NE(c.attr(id, "checkpoint_name"), name) << "no periodic checkpoint after the restart";
  for (const std::string& f : {std::string("test.c"), std::string("test.sh"), std::string("test"), "test.sh.o" + seq,
                              "test.sh.e" + seq})
    ::unlink((dir + "/" + f).c_str());
}

}  // namespace
