// Zombies (issue 11 item 9): a child that has exited but is not reaped yet is
// saved with its wait status and restored as such, so its parent reaps it
// after the restart, by pid or by process group, and gets its SIGCHLD.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <regex>

#include "cr_engine.h"

namespace crtest {
namespace {

using namespace std::chrono_literals;

Subject zombies() { return {"zombie_children", {"40", "100"}, 6, {}, false}; }

TEST(SubjectDeterminism, ZombieChildren) { expect_deterministic(zombies()); }

TEST(Zombies, ParentReapsThemAfterEveryKindOfRestart) { all_variants_match_reference(zombies()); }

// The image holds the zombie (the subject keeps one through each 100 ms
// sleep), and cr_info shows it under its parent with its status.
TEST(Zombies, CheckpointSavesTheZombieAndCrInfoShowsIt)
{
    ASSERT_EQ(missing_tools(), "");
    TempDir dir;
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(zombies(), dir, "run.out", 3, app));
    std::string image = dir.file("image.rpr");
    bool saved_one = false;
    std::string last;
    for (int attempt = 0; attempt < 5 && !saved_one; ++attempt) {  // a checkpoint between rounds may find none
        ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {}, dir.path()));
        RunResult text = run({tool("cr_info"), image}, dir.path(), 30s);
        ASSERT_EQ(exit_code(text.status), 0) << describe_status(text.status) << ": " << text.err;
        last = text.out;
        saved_one = std::regex_search(
            text.out, std::regex("zombie child [0-9]+ \\(not reaped yet\\).*: (exited with status [0-9]+|killed by "
                                 "signal 15 \\(Terminated\\))"));
    }
    EXPECT_TRUE(saved_one) << "no zombie in five checkpoints; last cr_info:\n" << last;
    RunResult json = run({tool("cr_info"), "--json", image}, dir.path(), 30s);
    EXPECT_NE(json.out.find("\"zombie_children\""), std::string::npos) << json.out;
    app->kill_tree();
}

}  // namespace
}  // namespace crtest
