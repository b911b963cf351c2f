// Pending signals, POSIX timers and file locks (issue 11 item 6): signals
// pending for the process and for each thread, with their siginfo (sigqueue
// values included), timer_create timers with their ids, signal, value and
// time left, and flock/POSIX/OFD locks survive every kind of restart and a
// live checkpoint.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>

#include "cr_engine.h"

namespace crtest {
namespace {

using namespace std::chrono_literals;

Subject pending() { return {"pending_signals", {"30", "100"}, 5, {}, false}; }

TEST(SubjectDeterminism, PendingSignals) { expect_deterministic(pending()); }

TEST(PendingSignals, SignalsAndTimerSurviveEveryVariant) { all_variants_match_reference(pending()); }

// A live checkpoint takes the signals to save them and must give them back:
// the program runs on to the end with the same output.
TEST(PendingSignals, LiveCheckpointGivesThemBack)
{
    ASSERT_EQ(missing_tools(), "");
    Subject s = pending();
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(s, dir, "reference.out", reference));
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(s, dir, "run.out", 5, app));
    std::string image = dir.file("image.rpr");
    for (int i = 0; i < 3; ++i)
        ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {}, dir.path()));
    RunResult info = run({tool("cr_info"), image}, dir.path(), 30s);
    for (const char *needle : {"pending signal 10 (User defined signal 1) for the process, code 0",
                               "pending signal 12 (User defined signal 2) for thread ", ", value 0x64",
                               ", value 0x7", "POSIX timer ", "value 0x4d", ", every 0.100 s"})
        EXPECT_NE(info.out.find(needle), std::string::npos) << "cr_info lacks \"" << needle << "\":\n" << info.out;
    auto status = app->wait(60s);
    ASSERT_TRUE(status) << "the program did not finish";
    Outcome continued{*status, read_file(dir.file("run.out")), {}};
    expect_same_outcome(s, reference, continued, "after three live checkpoints");
}

Subject locks() { return {"file_locks", {"{dir}", "30", "100"}, 5, {}, false}; }

// Runs file_locks under cr_run until it holds its locks, then cr_checkpoint --kill to `image`.
void checkpoint_locks_and_kill(const TempDir &dir, const std::string &image)
{
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(locks(), dir, "run.out", 3, app));
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {"--kill"}, dir.path()));
    app->wait(10s);
}

TEST(SubjectDeterminism, FileLocks) { expect_deterministic(locks()); }

TEST(FileLocks, FlockPosixAndOfdLocksAreTakenBackInEveryVariant) { all_variants_match_reference(locks()); }

TEST(FileLocks, CrInfoShowsThem)
{
    ASSERT_EQ(missing_tools(), "");
    TempDir dir;
    std::string image = dir.file("image.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_locks_and_kill(dir, image));
    RunResult info = run({tool("cr_info"), image}, dir.path(), 30s);
    for (const char *needle : {"flock write lock, whole file", "POSIX write lock, bytes 10-29",
                               "POSIX read lock, bytes 100-EOF", "OFD write lock, bytes 0-EOF"})
        EXPECT_NE(info.out.find(needle), std::string::npos) << "cr_info lacks \"" << needle << "\":\n" << info.out;
}

// A lock another process took while the program was down: the restart fails
// before the program runs, naming the fd, and leaves nothing behind.
TEST(FileLocks, RestartFailsWhenAnotherProcessHoldsTheLock)
{
    ASSERT_EQ(missing_tools(), "");
    TempDir dir;
    std::string image = dir.file("image.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_locks_and_kill(dir, image));
    Process holder = Process::spawn({"/usr/bin/flock", "--exclusive", dir.file("a.lock"), "/bin/sleep", "30"},
                                    {dir.path(), "/dev/null", "/dev/null", {}, {}});
    std::this_thread::sleep_for(300ms);
    RunResult r = run({tool("cr_restart"), image}, "/", 60s);
    EXPECT_NE(exit_code(r.status), 0) << r.err;
    EXPECT_NE(r.err.find("cannot take back its file lock: another process holds a conflicting one"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find("fd "), std::string::npos) << r.err;
    holder.kill_tree();
}

}  // namespace
}  // namespace crtest
