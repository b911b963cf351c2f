// Issue 12, item 5: a checkpoint never blocks pbs_mom's event loop. The checkpoint script
// here waits for a gate file that the test creates only once it has seen the mom do other
// work (start and end another job, obey qdel, take a qhold): a mom that waited for the
// script inside its loop could do none of it, and the test would fail rather than hang.
#include <sys/stat.h>

#include "ck_fixture.h"

using namespace reprise::test;
using namespace reprise::test::ck;

namespace {

class CkAsync : public CkJobs {
 protected:
  void SetUp() override {
    CkJobs::SetUp();
    if (HasFatalFailure()) return;
    gate_ = c.tmp() + "/checkpoint_gate";
    ::unlink(gate_.c_str());
    std::string script = c.tmp() + "/gated_checkpoint_script";
    spit(script,
         "#!/bin/sh\nwhile [ ! -e " + gate_ + " ]; do sleep 0.2; done\nexec /bin/sh " +
             bin("reprise_checkpoint_script") + " \"$@\"\n",
         0755);
    mom_config({"$checkpoint_script " + script});
  }
  void TearDown() override { open_gate(); }  // a failed test leaves no script waiting
  void open_gate() { spit(gate_, ""); }
  bool wait_log(const std::string& text, int seconds = 30) {
    return wait_for([&] { return mom_log().find(text) != std::string::npos; }, std::chrono::seconds(seconds));
  }
  // The job's checkpoint is running (its command waits at the gate).
  void checkpoint_waiting_at_gate(const std::string& id) {
    ASSERT_TRUE(wait_lines(id, 3)) << why(id);
    ASSERT_EQ(c.cmd(kUser, {"qchkpt", id}).code, 0);
    ASSERT_TRUE(wait_log("job " + id + ": qchkpt checkpoint running")) << why(id);
  }
  // Pids and command lines of the user's processes that this cluster's jobs and checkpoint scripts run
  // (other tests on the machine use the same user): cwd or arguments in our tmp dir.
  std::string ours() {
    std::string found;
    for (const auto& e : fs::directory_iterator("/proc")) {
      std::string pid = e.path().filename();
      struct stat st{};
      if (pid.find_first_not_of("0123456789") != std::string::npos || ::stat(e.path().c_str(), &st) != 0 ||
          st.st_uid != uid_)
        continue;  // the daemons (root) name our tmp dir too
      std::error_code ec;
      std::string cwd = fs::read_symlink(e.path() / "cwd", ec).string();
      std::string args = slurp(e.path() / "cmdline");
      std::replace(args.begin(), args.end(), '\0', ' ');
      if (cwd.rfind(c.tmp(), 0) == 0 || args.find(c.tmp()) != std::string::npos) found += pid + " " + args + "\n";
    }
    return found;
  }
  std::string gate_;
};

// While a checkpoint runs, the mom starts and ends another job, and its node stays up.
TEST_F(CkAsync, MomKeepsWorkingWhileACheckpointRuns) {
  std::string id = submit_counting({"-c", "enabled"}, 600, 100);
  ASSERT_FALSE(id.empty());
  checkpoint_waiting_at_gate(id);
  std::string other = c.submit(kUser, "echo other\n", {"-N", "other", "-d", work_});
  ASSERT_FALSE(other.empty());
  EXPECT_TRUE(c.wait_state(other, "C", 30)) << "the mom did not run another job while a checkpoint ran" << why(id);
  EXPECT_EQ(c.attr(other, "exit_status"), "0") << why(other);
  EXPECT_EQ(slurp(work_ + "/other.o" + seq_of(other)), "other\n");
  EXPECT_EQ(c.cmd("", {"pbsnodes", "-a"}).out.find("down"), std::string::npos) << c.cmd("", {"pbsnodes", "-a"}).out;
  EXPECT_TRUE(c.attr(id, "checkpoint_name").empty()) << "the image exists before its command could write it";
  open_gate();
  EXPECT_TRUE(wait_for([&] { return !c.attr(id, "checkpoint_name").empty(); }, 30s)) << why(id);
  EXPECT_EQ(c.attr(id, "job_state"), "R") << why(id);
  EXPECT_EQ(images_in(ck_dir(id)).size(), 1u) << why(id);
  c.cmd("", {"qdel", id});
}

// qdel during a checkpoint: the job and the checkpoint command are killed now; nothing of
// the user's is left running, and the job is not held or requeued.
TEST_F(CkAsync, QdelDuringACheckpointEndsJobAndCheckpoint) {
  std::string id = submit_counting({"-c", "enabled"}, 600, 100);
  ASSERT_FALSE(id.empty());
  checkpoint_waiting_at_gate(id);
  ASSERT_EQ(c.cmd(kUser, {"qdel", id}).code, 0);
  EXPECT_TRUE(c.wait_state(id, "C", 30)) << "qdel was not obeyed while a checkpoint ran" << why(id);
  EXPECT_TRUE(wait_for([&] { return ours().empty(); }, 15s)) << "processes of this test are left: " << ours();
  EXPECT_TRUE(wait_log("killed the checkpoint command")) << why(id);
  EXPECT_TRUE(c.attr(id, "checkpoint_name").empty()) << why(id);
}

// qhold during a qchkpt: the hold waits for the running checkpoint, then takes a fresh
// image and stops the job; qrls restarts it from that image with the exact output.
TEST_F(CkAsync, QholdDuringACheckpointFollowsIt) {
  std::string id = submit_counting({"-c", "enabled,depth=2"}, 300, 100);
  ASSERT_FALSE(id.empty());
  checkpoint_waiting_at_gate(id);
  ASSERT_EQ(c.cmd(kUser, {"qhold", id}).code, 0);
  ASSERT_TRUE(wait_log("hold checkpoint requested while a checkpoint runs")) << why(id);
  EXPECT_EQ(c.attr(id, "job_state"), "R");
  open_gate();
  ASSERT_TRUE(c.wait_state(id, "H", 60)) << why(id);
  std::vector<std::string> images = images_in(ck_dir(id));
  ASSERT_EQ(images.size(), 2u) << "expected the qchkpt image and the hold's" << why(id);
  EXPECT_EQ(c.attr(id, "checkpoint_name"), images.back()) << why(id);
  release_and_finish(id, 300, "Count = ", 90);
}

}  // namespace
