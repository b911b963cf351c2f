// Attacks on the mom through checkpoint paths (issue 10, findings 1, 6 and 9), each made by
// an ordinary user against real daemons: user-chosen checkpoint directories must never be
// worked on as root, PBS_HOME/checkpoint must not let users plant entries under the next job
// id, and a checkpoint that completes while the mom is dead must not be forgotten.
#include <sys/stat.h>

#include "ck_fixture.h"

using namespace reprise::test;
using namespace reprise::test::ck;

namespace {

class CkAttack : public CkJobs {
 protected:
  // Waits until the job's comment mentions `text` (a checkpoint failure is reported there).
  bool wait_comment(const std::string& id, const std::string& text, int seconds = 30) {
    return wait_for([&] { return c.attr(id, "comment").find(text) != std::string::npos; },
                    std::chrono::seconds(seconds));
  }
};

// Finding 1: checkpoint_dir=/etc made the root mom create /etc/ID.CK owned by the user.
TEST_F(CkAttack, CheckpointDirTheUserCannotWriteIsNotCreatedAsRoot) {
  std::string id = submit_counting({"-c", "enabled", "-W", "checkpoint_dir=/etc"}, 60, 100);
  ASSERT_FALSE(id.empty()) << c.cmd(kUser, {"qsub", "-c", "enabled", "-W", "checkpoint_dir=/etc"}, work_, "true\n").err;
  ASSERT_TRUE(wait_lines(id, 3)) << why(id);
  ASSERT_EQ(c.cmd(kUser, {"qchkpt", id}).code, 0);
  ASSERT_TRUE(wait_comment(id, "checkpoint directory")) << why(id);
  EXPECT_NE(c.attr(id, "comment").find("/etc/" + id + ".CK"), std::string::npos) << why(id);
  struct stat st{};
  EXPECT_NE(::lstat(("/etc/" + id + ".CK").c_str(), &st), 0) << "the mom created a directory in /etc";
  EXPECT_EQ(c.attr(id, "job_state"), "R") << "a failed checkpoint leaves the job running";
  c.cmd("", {"qdel", id});
  // Paths that are not plain absolute paths are refused by the server, whatever the client.
  for (const char* bad : {"checkpoint_dir=relative/dir", "checkpoint_dir=/tmp/../etc", "checkpoint_name=../x"}) {
    Result r = c.cmd(kUser, {"qsub", "-W", bad}, work_, "true\n");
    EXPECT_NE(r.code, 0) << bad;
    EXPECT_NE(r.err.find("Illegal attribute or resource value"), std::string::npos) << bad << ": " << r.err;
  }
  Result r = c.cmd(kUser, {"qsub", "-c", "enabled,dir=/a/./b"}, work_, "true\n");
  EXPECT_NE(r.code, 0) << r.out;
}

// Finding 1: in a directory the user owns, swapping the fresh ID.CK for a symlink between the
// mom's lstat and its chown handed any file to the user (about 20 qchkpt calls were enough).
TEST_F(CkAttack, SymlinkSwapInUsersCheckpointDirGivesAwayNothing) {
  std::string dir = work_ + "/images";
  ASSERT_EQ(run({"mkdir", "-p", dir}, kUser).code, 0);
  std::string secret = c.tmp() + "/root-secret";
  spit(secret, "root's\n", 0600);
  std::string id = submit_counting({"-c", "enabled", "-W", "checkpoint_dir=" + dir}, 400, 100);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(wait_lines(id, 3)) << why(id);
  // The attacker swaps ID.CK between a real directory and a symlink to the secret, as fast
  // as it can, for at most 60 s.
  std::string ck = dir + "/" + id + ".CK";
  std::string loop = "end=$((SECONDS+60)); while [ $SECONDS -lt $end ] && [ ! -e " + dir + "/stop ]; do "
                     "rm -rf " + ck + "; mkdir " + ck + "; rm -rf " + ck + "; ln -s " + secret + " " + ck + "; done";
  pid_t attacker = ::fork();
  if (attacker == 0) {
    run({"bash", "-c", loop}, kUser);
    _exit(0);
  }
  for (int i = 0; i < 25; ++i) {
    c.cmd(kUser, {"qchkpt", id});
    std::this_thread::sleep_for(200ms);
  }
  spit(dir + "/stop", "");
  ::waitpid(attacker, nullptr, 0);
  struct stat st{};
  ASSERT_EQ(::stat(secret.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "the root-owned file was given to the user";
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(slurp(secret), "root's\n");
  c.cmd("", {"qdel", id});
}

// Finding 6: PBS_HOME/checkpoint was world-writable and job ids are predictable, so a user
// who created NEXTID.CK there made every checkpoint of that job fail. A home made that way
// is repaired when the mom starts.
TEST_F(CkAttack, NobodyPlantsEntriesInPbsHomeCheckpoint) {
  std::string base = c.home() + "/checkpoint";
  ASSERT_EQ(::chmod(base.c_str(), 01777), 0);  // as an older home had it
  mom_config({});                              // restart the mom on it
  struct stat st{};
  ASSERT_EQ(::stat(base.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u) << "the mom leaves PBS_HOME/checkpoint writable by others";
  std::string first = c.submit(kUser, "true\n", {"-h"});
  ASSERT_FALSE(first.empty());
  long seq = std::stol(seq_of(first));
  std::string next = std::to_string(seq + 1) + first.substr(first.find('.'));
  Result plant = run({"mkdir", base + "/" + next + ".CK"}, kUser);
  EXPECT_NE(plant.code, 0) << "a user created " << next << ".CK";
  run({"ln", "-s", "/etc", base + "/" + next + ".CK"}, kUser);
  std::string id = submit_counting({"-c", "enabled"}, 40, 100);
  ASSERT_EQ(id, next);
  ASSERT_TRUE(wait_lines(id, 4)) << why(id);
  hold_and_check(id);
  release_and_finish(id, 40);
  c.cmd("", {"qdel", first});
}

// Finding 9: kill -9 of the mom during a checkpoint; the checkpoint command goes on and
// completes its image; the restarted mom must make it the job's checkpoint (the server kept
// the older image, and a restart from it would repeat work silently).
TEST_F(CkAttack, CheckpointCompletedWhileMomWasDeadIsAdopted) {
  std::string script = c.tmp() + "/slow_checkpoint_script";
  spit(script, "#!/bin/sh\nsleep 4\nexec /bin/sh " + bin("reprise_checkpoint_script") + " \"$@\"\n", 0755);
  mom_config({"$checkpoint_script " + script});
  std::string id = submit_counting({"-c", "enabled"}, 150, 100);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(wait_lines(id, 3)) << why(id);
  ASSERT_EQ(c.cmd(kUser, {"qchkpt", id}).code, 0);
  ASSERT_TRUE(wait_for([&] { return !c.attr(id, "checkpoint_name").empty(); }, 30s)) << why(id);
  std::string older = c.attr(id, "checkpoint_name");
  // The second checkpoint: the mom dies while its script runs, and comes back at once.
  ASSERT_EQ(c.cmd(kUser, {"qchkpt", id}).code, 0);
  std::this_thread::sleep_for(1500ms);
  c.kill_mom(SIGKILL);
  ASSERT_EQ(run({bin("pbs_mom"), "-d", c.home()}, "", c.env()).code, 0);
  std::string dir = ck_dir(id);
  ASSERT_TRUE(wait_for([&] { return images_in(dir).size() == 2; }, 30s)) << why(id);
  std::string newest = images_in(dir).back();  // same-length UNIXTIME suffixes sort by time
  ASSERT_NE(newest, older);
  EXPECT_TRUE(wait_for([&] { return c.attr(id, "checkpoint_name") == newest; }, 20s))
      << "the server still names " << c.attr(id, "checkpoint_name") << ", not " << newest << why(id);
  EXPECT_NE(mom_log().find("completed while no mom was watching"), std::string::npos) << mom_log();
  c.cmd("", {"qdel", id});
}

}  // namespace
