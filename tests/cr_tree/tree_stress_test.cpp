// The same job checkpointed again and again: 20 checkpoints of a running bash
// tree (which must not disturb it), then 20 checkpoint --kill / restart cycles,
// each restart continuing from the previous image. Both end with output
// identical to an uninterrupted run.
//
// The subject is steady_pipeline.sh: bash with a background job and a
// three-stage pipeline of bash subshells with data in both pipes, whose tree
// stays the same while it runs, so every checkpoint must succeed at any
// moment. The same procedures on tree_script.sh (which forks and reaps all the
// time) are in tree_race_test.cpp.
#include <gtest/gtest.h>

#include "tree_harness.h"

namespace crtree {
namespace {

constexpr int kCycles = 20;

Subject long_steady_subject()
{
    Subject s = steady_bash_subject();
    s.argv = {"/bin/bash", mt_program("steady_pipeline.sh"), "250", "0.03"}; // ~7.5 s
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

TEST_F(TreeStress, TwentyCheckpointsOfARunningTreeLeaveItsOutputUnchanged)
{
    repeated_checkpoints(long_steady_subject(), kCycles, /*after_new_line=*/false);
}

TEST_F(TreeStress, TwentyKillRestartCyclesOfTheSameJob)
{
    kill_restart_cycles(long_steady_subject(), kCycles);
}

} // namespace
} // namespace crtree
