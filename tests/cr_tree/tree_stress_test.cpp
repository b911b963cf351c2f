// The same job checkpointed again and again: 20 checkpoints of a running bash
// tree (which must not disturb it), then 20 checkpoint --kill / restart cycles,
// each restart continuing from the previous image. Both end with output
// identical to an uninterrupted run.
#include <gtest/gtest.h>

#include "tree_harness.h"

namespace crtree {
namespace {

constexpr int kCycles = 20;

// A longer bash run: ~110 ms per round (pipelines, substitutions, sleep).
Subject long_bash_subject()
{
    Subject s = bash_subject();
    s.argv = {"/bin/bash", mt_program("tree_script.sh"), "75", "0.08"};
    s.checkpoint_after_lines = 5;
    return s;
}

class TreeStress : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string missing = missing_pieces();
        if (!missing.empty())
            GTEST_SKIP() << missing;
    }
};

// Each checkpoint is taken right after the script printed a new round line,
// i.e. while the round's `sleep` runs (see tree_script.sh). A checkpoint at an
// arbitrary moment, in the middle of the script's fork/exit churn, can fail
// today: see tree_pending_test.cpp.
TEST_F(TreeStress, TwentyCheckpointsOfARunningTreeLeaveItsOutputUnchanged)
{
    Subject subject = long_bash_subject();
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(reference_run(subject, dir.subdir("reference"), reference));
    size_t total = count_lines(dir.file("reference/out.txt"));

    std::string rundir = dir.subdir("run");
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_subject(subject, rundir, subject.checkpoint_after_lines, app));
    size_t lines = count_lines(rundir + "/out.txt");
    for (int i = 1; i <= kCycles; i++) {
        ASSERT_TRUE(wait_for_lines(rundir + "/out.txt", lines + 1, kProgressTimeout))
            << "no progress before checkpoint " << i;
        lines = count_lines(rundir + "/out.txt");
        ASSERT_LT(lines, total - 3) << "the script ended before checkpoint " << i
                                    << "; make it longer";
        std::string image = dir.file("image." + std::to_string(i));
        ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {})) << "checkpoint " << i;
        ASSERT_TRUE(process_alive(app->pid())) << "cr_run gone after checkpoint " << i;
        if (i > 1)
            unlink(dir.file("image." + std::to_string(i - 1)).c_str());
    }
    Outcome outcome;
    ASSERT_NO_FATAL_FAILURE(finish(*app, rundir, outcome));
    expect_same(subject, reference, outcome, "after 20 checkpoints without --kill");

    // The last image, taken late in the run, still restarts to the same end.
    // The running job already wrote its whole output: restarting truncates
    // out.txt back to the checkpoint-time size and writes the rest again.
    std::optional<Process> restarted;
    start_restart(dir.file("image." + std::to_string(kCycles)), dir.path(), "last", {}, restarted);
    Outcome again;
    ASSERT_NO_FATAL_FAILURE(finish(*restarted, rundir, again));
    expect_same(subject, reference, again, "restart of the 20th image");
}

TEST_F(TreeStress, TwentyKillRestartCyclesOfTheSameJob)
{
    Subject subject = long_bash_subject();
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(reference_run(subject, dir.subdir("reference"), reference));
    size_t total = count_lines(dir.file("reference/out.txt"));

    std::string rundir = dir.subdir("run");
    std::optional<Process> current;
    ASSERT_NO_FATAL_FAILURE(start_subject(subject, rundir, subject.checkpoint_after_lines, current));
    std::string image;
    for (int i = 1; i <= kCycles; i++) {
        std::string tag = "cycle" + std::to_string(i);
        image = dir.file("image." + std::to_string(i));
        ASSERT_NO_FATAL_FAILURE(checkpoint_ok(current->pid(), image, {"--kill"}))
            << "checkpoint " << i;
        ASSERT_NO_FATAL_FAILURE(expect_killed(*current, i == 1 ? "cr_run" : "cr_restart"));
        size_t lines = count_lines(rundir + "/out.txt");
        ASSERT_LT(lines, total - 3) << "the script ended before cycle " << i << "; make it longer";
        current.reset();
        start_restart(image, dir.path(), tag, {}, current);
        ASSERT_TRUE(wait_for_lines(rundir + "/out.txt", lines + 1, kProgressTimeout))
            << "restart " << i << " made no progress; cr_restart stderr: "
            << read_file(dir.file(tag + ".restart.err"));
        if (i > 1)
            unlink(dir.file("image." + std::to_string(i - 1)).c_str());
    }
    Outcome outcome;
    ASSERT_NO_FATAL_FAILURE(finish(*current, rundir, outcome));
    expect_same(subject, reference, outcome, "after 20 checkpoint --kill / restart cycles");
}

} // namespace
} // namespace crtree
