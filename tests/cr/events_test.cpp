// Event objects (issue 11 item 3): eventfd, timerfd, signalfd, nested and
// edge-triggered epoll, pidfd of a child, inotify; each subject checks its
// own state and is compared with an uninterrupted run in the three variants.
// What cannot be restored is refused with a line naming pid, fd and kind.
#include <gtest/gtest.h>

#include <algorithm>

#include "subjects.h"

namespace crtest {
namespace {

Subject event_loop() { return {"event_loop", {"40", "30"}, 10, {}, false}; }
Subject inotify_watch() { return {"inotify_watch", {"{dir}", "40", "30"}, 10, {}, false}; }

TEST(SubjectDeterminism, EventLoop) { expect_deterministic(event_loop()); }
TEST(SubjectDeterminism, InotifyWatch) { expect_deterministic(inotify_watch()); }

TEST(EventObjects, InotifyWatcherSurvivesAllVariants)
{
    ASSERT_EQ(missing_tools(), "");
    all_variants_match_reference(inotify_watch());
}

TEST(EventObjects, EventLoopSurvivesAllVariants)
{
    ASSERT_EQ(missing_tools(), "");
    all_variants_match_reference(event_loop());
}

void expect_refused(const std::string &mode, const std::vector<std::string> &needles)
{
    ASSERT_EQ(missing_tools(), "");
    TempDir dir;
    Process app = Process::spawn({tool("cr_run"), program("event_refusals"), mode},
                                 {dir.path(), dir.file("run.out"), dir.file("run.err"), {}, {}});
    ASSERT_TRUE(wait_for_lines(dir.file("run.out"), 3, 10s));
    std::string image = dir.file("image.rpr");
    RunResult r = run({tool("cr_checkpoint"), "--file", image, std::to_string(app.pid())}, dir.path(), 30s);
    EXPECT_NE(exit_code(r.status), 0) << describe_status(r.status);
    for (const std::string &needle : needles)
        EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr should contain \"" << needle << "\", got: " << r.err;
    EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "not a one-line error: " << r.err;
    EXPECT_FALSE(file_exists(image));
    EXPECT_TRUE(process_alive(app.pid()));
    size_t lines = count_lines(dir.file("run.out"));
    EXPECT_TRUE(wait_for_lines(dir.file("run.out"), lines + 1, 10s)) << "no progress after the refusal";
}

TEST(EventObjects, EpollWatchingAClosedFdIsRefused)
{
    expect_refused("epoll-closed", {"pid ", "fd 40: epoll watches fd 41", "closed", "EPOLL_CTL_DEL"});
}

TEST(EventObjects, PidfdOfAProcessOutsideTheTreeIsRefused)
{
    expect_refused("pidfd-outside", {"pid ", "fd 40: pidfd of pid", "outside the checkpointed tree"});
}

TEST(EventObjects, InotifyWatchOfUnknownPathIsRefused)
{
    expect_refused("inotify-raw", {"pid ", "fd 40: inotify watch 1: its path is unknown"});
}

} // namespace
} // namespace crtest
