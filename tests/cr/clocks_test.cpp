// CLOCK_MONOTONIC and CLOCK_BOOTTIME across a restart (issue 11 item 7): by
// default they go on from their values at the checkpoint (a time namespace),
// so a watchdog loop does not see the downtime; --clock=host keeps the old
// behaviour, where they jump forward by it.
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>

#include "cr_engine.h"

namespace crtest {
namespace {

using namespace std::chrono_literals;

// Rounds of 100 ms; a gap over 1.5 s is a jump. The tests below stay down 3 s.
Subject watchdog() { return {"clock_watch", {"30", "100", "1500"}, 4, {}, false}; }

TEST(SubjectDeterminism, ClockWatch) { expect_deterministic(watchdog()); }

TEST(Clocks, WatchdogLoopMatchesAnUninterruptedRunInEveryVariant) { all_variants_match_reference(watchdog()); }

// Checkpoint --kill, 3 s down, restart: returns the output of the restarted
// run, restarted with `flags`.
std::string output_after_downtime(const std::vector<std::string> &flags, std::string *image_info)
{
    TempDir dir;
    std::optional<Process> app;
    start_under_cr_run(watchdog(), dir, "run.out", 4, app);
    if (::testing::Test::HasFatalFailure())
        return "";
    std::string image = dir.file("image.rpr");
    checkpoint_ok(app->pid(), image, {"--kill"}, dir.path());
    app->wait(10s);
    if (image_info)
        *image_info = run({tool("cr_info"), image}, dir.path(), 30s).out;
    std::this_thread::sleep_for(3s);
    std::vector<std::string> argv{tool("cr_restart")};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.push_back(image);
    RunResult r = run(argv, "/", 120s);
    EXPECT_EQ(exit_code(r.status), 0) << describe_status(r.status) << ": " << r.err;
    return read_file(dir.file("run.out"));
}

TEST(Clocks, DowntimeIsInvisibleByDefault)
{
    ASSERT_EQ(missing_tools(), "");
    std::string info;
    std::string out = output_after_downtime({}, &info);
    EXPECT_EQ(out.find("jumped"), std::string::npos) << out;
    EXPECT_NE(out.find("round 29: watchdog ok"), std::string::npos) << out;
    EXPECT_NE(out.find("deadline timer: not expired"), std::string::npos) << out;
    EXPECT_NE(info.find("Clocks:         monotonic "), std::string::npos) << info;
}

TEST(Clocks, HostClockOptionShowsTheDowntime)
{
    ASSERT_EQ(missing_tools(), "");
    std::string out = output_after_downtime({"--clock=host"}, nullptr);
    EXPECT_NE(out.find("clocks jumped (monotonic +"), std::string::npos) << out;
    EXPECT_NE(out.find("deadline timer: EXPIRED"), std::string::npos) << out;
}

TEST(Clocks, UnknownClockOptionIsRefused)
{
    ASSERT_EQ(missing_tools(), "");
    TempDir dir;
    RunResult r = run({tool("cr_restart"), "--clock=later", dir.file("x.rpr")}, dir.path(), 30s);
    EXPECT_NE(exit_code(r.status), 0);
    EXPECT_NE(r.err.find("--clock"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace crtest
