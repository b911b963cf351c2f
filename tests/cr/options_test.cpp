// cr_checkpoint's post-checkpoint actions (--stop, --term), the --pid scope
// and cr_restart --no-restore-pid.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <thread>

#include "subjects.h"

namespace crtest {
namespace {

char process_state(pid_t pid)
{
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    size_t close = stat.rfind(')');
    return close == std::string::npos || close + 2 >= stat.size() ? '?' : stat[close + 2];
}

TEST(CheckpointOptions, StopLeavesTheProgramStoppedUntilSigcont)
{
    Subject subject = subjects::counting();
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(subject, dir, "reference.out", reference));
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, dir, "run.out", 5, app));
    pid_t real = deepest_descendant(app->pid());
    ASSERT_GT(real, 0);
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), dir.file("image.rpr"), {"--stop"}, dir.path()));

    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(process_state(real), 'T') << "program not stopped after --stop";
    size_t lines = count_lines(dir.file("run.out"));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(count_lines(dir.file("run.out")), lines) << "a stopped program kept printing";

    kill(real, SIGCONT);
    auto status = app->wait(60s);
    ASSERT_TRUE(status) << "program did not finish after SIGCONT";
    Outcome continued{*status, read_file(dir.file("run.out")), {}};
    expect_same_outcome(subject, reference, continued, "after --stop and SIGCONT");
}

TEST(CheckpointOptions, TermEndsTheProgramAfterTheImageIsWritten)
{
    Subject subject = subjects::counting();
    TempDir dir;
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, dir, "run.out", 5, app));
    std::string image = dir.file("image.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {"--term"}, dir.path()));
    auto status = app->wait(10s);
    ASSERT_TRUE(status) << "cr_run still running after cr_checkpoint --term";
    EXPECT_EQ(describe_status(*status), describe_status(SIGTERM)) // a raw status of 15 = killed by 15
        << "cr_run should mirror the program's SIGTERM";
    EXPECT_TRUE(file_exists(image));
}

TEST(CheckpointOptions, PidScopeOnTheProgramItself)
{
    Subject subject = subjects::counting();
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(subject, dir, "reference.out", reference));
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, dir, "run.out", 8, app));
    pid_t real = deepest_descendant(app->pid());
    ASSERT_GT(real, 0);
    std::string image = dir.file("image.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(real, image, {"--pid", "--kill"}, dir.path()));
    ASSERT_TRUE(app->wait(10s));
    Outcome restarted;
    ASSERT_NO_FATAL_FAILURE(restart_to_completion(subject, dir, image, "run.out", restarted));
    expect_same_outcome(subject, reference, restarted, "--pid scope");
}

// The last NSpid entry: the pid the process sees for itself.
std::string inner_pid(pid_t pid)
{
    std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
    size_t at = status.find("NSpid:");
    if (at == std::string::npos)
        return "?";
    std::string line = status.substr(at, status.find('\n', at) - at);
    return line.substr(line.find_last_of(" \t") + 1);
}

TEST(RestartOptions, ProgramKeepsItsPidAcrossRestart)
{
    Subject subject{"counting", {"40", "40"}, 5, {}, false};
    TempDir dir;
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, dir, "run.out", 5, app));
    pid_t real = deepest_descendant(app->pid());
    ASSERT_GT(real, 0);
    std::string before = inner_pid(real);
    EXPECT_EQ(before, "2") << "the contract says the program sees itself as pid 2 under cr_run";
    std::string image = dir.file("image.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {"--kill"}, dir.path()));
    ASSERT_TRUE(app->wait(10s));

    Process restarted = Process::spawn({tool("cr_restart"), image}, {"/", "", dir.file("restart.err"), {}, {}});
    ASSERT_TRUE(wait_for_lines(dir.file("run.out"), 12, 30s)) << read_file(dir.file("restart.err"));
    pid_t restored = deepest_descendant(restarted.pid());
    ASSERT_GT(restored, 0);
    EXPECT_EQ(inner_pid(restored), before) << "pid as seen by the program changed across restart";
    auto status = restarted.wait(60s);
    ASSERT_TRUE(status);
    EXPECT_EQ(describe_status(*status), "exit 0");
}

TEST(RestartOptions, NoRestorePid)
{
    Subject subject = subjects::counting();
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(subject, dir, "reference.out", reference));
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, dir, "run.out", 8, app));
    std::string image = dir.file("image.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {"--kill"}, dir.path()));
    ASSERT_TRUE(app->wait(10s));
    RunResult r = run({tool("cr_restart"), "--no-restore-pid", image}, "/", 60s);
    ASSERT_FALSE(r.timed_out) << r.err;
    Outcome restarted{r.status, read_file(dir.file("run.out")), {}};
    expect_same_outcome(subject, reference, restarted, "cr_restart --no-restore-pid");
}

} // namespace
} // namespace crtest
