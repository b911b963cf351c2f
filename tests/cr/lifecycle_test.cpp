// Checkpoint/restart life cycles beyond the basic round trip: checkpoint
// without --kill, the default image name, checkpoint by the program's real
// pid, restart of a restarted process, restarting one image twice, exit
// status and signal propagation, cr_info.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "subjects.h"

namespace crtest {
namespace {

TEST(Lifecycle, CheckpointWithoutKillLetsProgramFinishAndImageIsPrivate)
{
    Subject subject = subjects::counting();
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(subject, dir, "reference.out", reference));

    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, dir, "run.out", 8, app));
    std::string image = dir.file("image.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {}, dir.path()));

    struct stat st;
    ASSERT_EQ(stat(image.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0400u) << "image mode is " << std::oct << (st.st_mode & 07777);
    EXPECT_EQ(st.st_uid, geteuid());
    EXPECT_TRUE(S_ISREG(st.st_mode));

    auto status = app->wait(60s);
    ASSERT_TRUE(status) << "program did not finish after a checkpoint without --kill";
    Outcome continued{*status, read_file(dir.file("run.out")), {}};
    expect_same_outcome(subject, reference, continued, "continuing after checkpoint");

    // The image still restarts later; the output file is cut back to its
    // checkpoint-time size and the run replays to the same end.
    Outcome restarted;
    ASSERT_NO_FATAL_FAILURE(restart_to_completion(subject, dir, image, "run.out", restarted));
    expect_same_outcome(subject, reference, restarted, "restart of a non-kill image");
}

TEST(Lifecycle, RepeatedCheckpointsDoNotDisturbTheRunningProgram)
{
    // fpu_regs checks its whole register file around every sleep, so each
    // checkpoint's resume path (not only restart) must give it back intact.
    // 80 iterations of 30 ms: long enough that eight checkpoints fit even on a loaded machine.
    Subject subject{"fpu_regs", {"80", "30"}, 3, {}, false};
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(subject, dir, "reference.out", reference));
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, dir, "run.out", 3, app));
    std::string image = dir.file("image.rpr");
    int taken = 0;
    for (; taken < 8; taken++) {
        // Checkpointing a program whose root has exited is refused: stop early instead.
        if (read_file(dir.file("run.out")).find("fpu_regs done") != std::string::npos)
            break;
        ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {}, dir.path()))
            << "checkpoint #" << taken + 1;
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_GE(taken, 5) << "the program ended before enough checkpoints were taken (machine too slow?)";
    auto status = app->wait(60s);
    ASSERT_TRUE(status) << "program did not finish after repeated checkpoints";
    Outcome continued{*status, read_file(dir.file("run.out")), {}};
    expect_same_outcome(subject, reference, continued, "after " + std::to_string(taken) + " checkpoints without --kill");

    Outcome restarted;
    ASSERT_NO_FATAL_FAILURE(restart_to_completion(subject, dir, image, "run.out", restarted));
    expect_same_outcome(subject, reference, restarted, "restart of the last image");
}

TEST(Lifecycle, DefaultImageNameIsContextDotIdInCwdAndNoTempFilesRemain)
{
    Subject subject = subjects::counting();
    TempDir dir;
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, dir, "run.out", 5, app));
    TempDir cwd;
    RunResult r = run({tool("cr_checkpoint"), std::to_string(app->pid())}, cwd.path(), 60s);
    ASSERT_EQ(exit_code(r.status), 0) << describe_status(r.status) << ": " << r.err;
    std::string expected = "context." + std::to_string(app->pid());
    EXPECT_EQ(list_dir(cwd.path()), std::vector<std::string>{expected})
        << "expected exactly the image " << expected << " (temp file renamed into place)";
    EXPECT_TRUE(process_alive(app->pid())) << "program stopped after a checkpoint without --kill";
    size_t lines = count_lines(dir.file("run.out"));
    EXPECT_TRUE(wait_for_lines(dir.file("run.out"), lines + 2, 10s))
        << "program made no progress after the checkpoint";
}

TEST(Lifecycle, CheckpointByRealPidOfTheProgram)
{
    Subject subject = subjects::counting();
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(subject, dir, "reference.out", reference));
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, dir, "run.out", 8, app));
    pid_t real = deepest_descendant(app->pid());
    ASSERT_GT(real, 0) << "cr_run has no child process";
    std::string cmdline = read_file("/proc/" + std::to_string(real) + "/cmdline");
    ASSERT_TRUE(cmdline.find("counting") != std::string::npos)
        << "deepest descendant of cr_run is not the program: " << cmdline;

    std::string image = dir.file("image.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(real, image, {"--kill"}, dir.path()));
    ASSERT_TRUE(app->wait(10s)) << "cr_run still running after its program was killed";
    Outcome restarted;
    ASSERT_NO_FATAL_FAILURE(restart_to_completion(subject, dir, image, "run.out", restarted));
    expect_same_outcome(subject, reference, restarted, "checkpoint by real pid");
}

TEST(Lifecycle, CheckpointOfRestartedProcessRestartsAgain)
{
    Subject subject{"counting", {"40", "40"}, 8, {}, false};
    TempDir dir;
    StartLog starts(dir);
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(subject, dir, "reference.out", reference));
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, dir, "run.out", 8, app));
    std::string first = dir.file("first.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), first, {"--kill"}, dir.path()));
    ASSERT_TRUE(app->wait(10s));

    // Restart in the background, let it make progress, checkpoint it again.
    Process restarted = Process::spawn({tool("cr_restart"), first},
                                       {"/", "", dir.file("restart1.err"), {}, {}});
    ASSERT_TRUE(wait_for_lines(dir.file("run.out"), 20, 30s))
        << "restarted program made no progress; cr_restart stderr: "
        << read_file(dir.file("restart1.err"));
    pid_t real = deepest_descendant(restarted.pid());
    ASSERT_GT(real, 0) << "cr_restart has no child process";
    std::string second = dir.file("second.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(real, second, {"--kill"}, dir.path()));
    auto status = restarted.wait(10s);
    ASSERT_TRUE(status) << "cr_restart still running after its program was killed";
    EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL)
        << "cr_restart should mirror SIGKILL, got " << describe_status(*status);

    Outcome final_run;
    ASSERT_NO_FATAL_FAILURE(restart_to_completion(subject, dir, second, "run.out", final_run));
    expect_same_outcome(subject, reference, final_run, "checkpoint -> restart -> checkpoint -> restart");
    EXPECT_EQ(starts.starts(), 2u) << "a restart re-executed the program instead of restoring it";
}

TEST(Lifecycle, SameImageRestartsTwice)
{
    Subject subject = subjects::counting();
    TempDir dir;
    StartLog starts(dir);
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(subject, dir, "reference.out", reference));
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, dir, "run.out", 8, app));
    std::string image = dir.file("image.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {"--kill"}, dir.path()));
    ASSERT_TRUE(app->wait(10s));
    for (int round = 1; round <= 2; round++) {
        Outcome restarted;
        ASSERT_NO_FATAL_FAILURE(restart_to_completion(subject, dir, image, "run.out", restarted));
        expect_same_outcome(subject, reference, restarted, "restart #" + std::to_string(round));
    }
    EXPECT_EQ(starts.starts(), 2u) << "a restart re-executed the program instead of restoring it";
}

// counting's third argument: >= 0 exit status, < 0 die by that signal.
void expect_status_propagates(const std::string &status_arg)
{
    Subject subject{"counting", {"20", "30", status_arg}, 6, {}, false};
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(subject, dir, "reference.out", reference));
    ASSERT_NE(describe_status(reference.status), "exit 0") << "subject misconfigured";

    // cr_run alone, uninterrupted
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, dir, "plain.out", 1, app));
    auto status = app->wait(60s);
    ASSERT_TRUE(status);
    EXPECT_EQ(describe_status(*status), describe_status(reference.status)) << "cr_run";

    // after checkpoint --kill and restart
    checkpoint_kill_restart_matches_reference(subject);
}

TEST(Lifecycle, ExitStatusPropagatesThroughCrRunAndCrRestart) { expect_status_propagates("7"); }
TEST(Lifecycle, DeathBySignalPropagatesThroughCrRunAndCrRestart)
{
    expect_status_propagates("-" + std::to_string(SIGTERM));
}

TEST(Lifecycle, CrInfoDescribesImage)
{
    Subject subject = subjects::counting();
    TempDir dir;
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, dir, "run.out", 3, app));
    std::string image = dir.file("image.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {"--kill"}, dir.path()));

    RunResult text = run({tool("cr_info"), image}, dir.path(), 30s);
    EXPECT_EQ(exit_code(text.status), 0) << describe_status(text.status) << ": " << text.err;
    EXPECT_TRUE(text.out.find("counting") != std::string::npos)
        << "cr_info should name the checkpointed command:\n" << text.out;

    RunResult json = run({tool("cr_info"), "--json", image}, dir.path(), 30s);
    EXPECT_EQ(exit_code(json.status), 0) << describe_status(json.status) << ": " << json.err;
    size_t open = json.out.find_first_not_of(" \t\n");
    size_t close = json.out.find_last_not_of(" \t\n");
    ASSERT_NE(open, std::string::npos) << "cr_info --json printed nothing";
    EXPECT_EQ(json.out[open], '{') << json.out;
    EXPECT_EQ(json.out[close], '}') << json.out;
    EXPECT_TRUE(json.out.find("counting") != std::string::npos) << json.out;
}

} // namespace
} // namespace crtest
