// Files the job changes in place (issue 11 item 8): after a live checkpoint
// and a SIGKILL, a restart brings them back to their state at the checkpoint.
// The subject checks the file against what it wrote and prints MISMATCH when
// the restart left the file as the job changed it after the checkpoint.
#include <gtest/gtest.h>

#include <optional>

#include "cr_engine.h"

namespace crtest {
namespace {

// cr_checkpoint FLAGS of app fails with every needle in its one-line
// message, leaves no image, and the program runs on.
void expect_refused_and_running(Process &app, const TempDir &dir, std::vector<std::string> flags,
                                std::initializer_list<const char *> needles)
{
    std::string image = dir.file("image.rpr");
    std::vector<std::string> argv{tool("cr_checkpoint")};
    argv.insert(argv.end(), flags.begin(), flags.end());
    for (const std::string &arg : {std::string("--file"), image, std::to_string(app.pid())})
        argv.push_back(arg);
    RunResult r = run(argv, dir.path(), std::chrono::seconds(60));
    EXPECT_FALSE(r.timed_out);
    EXPECT_NE(exit_code(r.status), 0) << r.err;
    for (const char *needle : needles)
        EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr should contain \"" << needle << "\": " << r.err;
    EXPECT_FALSE(file_exists(image));
    size_t lines = count_lines(dir.file("run.out"));
    EXPECT_TRUE(wait_for_lines(dir.file("run.out"), lines + 1, std::chrono::seconds(10))) << "no progress after the refusal";
}

Subject rewritten(const std::string &mode) { return {"rewritten_files", {mode, "40", "30"}, 10, {}, false}; }

TEST(SubjectDeterminism, RewrittenFilePwrite) { expect_deterministic(rewritten("pwrite")); }
TEST(SubjectDeterminism, RewrittenFileMmap) { expect_deterministic(rewritten("mmap")); }
TEST(SubjectDeterminism, RewrittenFileSqlite) { expect_deterministic(rewritten("sqlite")); }

// O_RDWR file whose records are rewritten with pwrite at offsets.
TEST(RewrittenFiles, PwriteAtOffsets) { all_variants_match_reference(rewritten("pwrite")); }

// A file mapped MAP_SHARED writable: main refused it ("changed since the checkpoint").
TEST(RewrittenFiles, SharedWritableMapping) { all_variants_match_reference(rewritten("mmap")); }

// SQLite inserting numbered rows in transactions: no duplicates, no gaps.
TEST(RewrittenFiles, SqliteTransactions) { all_variants_match_reference(rewritten("sqlite")); }

// Over the 64 MiB an image keeps of one file: refused at checkpoint time in one
// line naming pid, fd, path and size; the program runs on.
TEST(RewrittenFiles, FileLargerThanTheLimitIsRefused)
{
    ASSERT_EQ(missing_tools(), "");
    TempDir dir;
    Subject holder{"deleted_holder", {"bigfile", "300", "10"}, 3, {}, false};
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(holder, dir, "run.out", 3, app));
    expect_refused_and_running(*app, dir, {}, {"pid ", "fd 40", "big.dat", "68157440 bytes", "64 MiB", "O_APPEND"});
    app->kill_tree();
}

// --rewritten-files=refuse: the checkpoint fails naming the file; the program runs on.
TEST(RewrittenFiles, RefusePolicyNamesTheFile)
{
    ASSERT_EQ(missing_tools(), "");
    TempDir dir;
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(rewritten("pwrite"), dir, "run.out", 3, app));
    expect_refused_and_running(*app, dir, {"--rewritten-files=refuse"},
                               {"data.bin", "rewritten in place", "refused by the job's policy"});
    app->kill_tree();
}

// --rewritten-files=keep-current: nothing saved; after a live checkpoint and
// a crash the restart finds the file as the job left it, which this subject
// reports (MISMATCH), as documented for that policy.
TEST(RewrittenFiles, KeepCurrentPolicyRestartsWithTheFileAsFound)
{
    ASSERT_EQ(missing_tools(), "");
    TempDir dir;
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(rewritten("pwrite"), dir, "run.out", 5, app));
    std::string image = dir.file("image.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {"--rewritten-files=keep-current"}, dir.path()));
    size_t at_checkpoint = count_lines(dir.file("run.out"));
    ASSERT_TRUE(wait_for_lines(dir.file("run.out"), at_checkpoint + 3, std::chrono::seconds(10)));
    app->kill_tree();
    RunResult info = run({tool("cr_info"), image}, dir.path(), std::chrono::seconds(30));
    EXPECT_NE(info.out.find("rewritten file (not saved: kept as found at restart)"), std::string::npos) << info.out;
    RunResult r = run({tool("cr_restart"), image}, "/", std::chrono::seconds(120));
    EXPECT_NE(read_file(dir.file("run.out")).find("MISMATCH"), std::string::npos)
        << "the file was written back although the policy keeps it as found: " << read_file(dir.file("run.out"));
}

// --rewritten-limit raises the 64 MiB a file may hold in the image, up to 200m.
TEST(RewrittenFiles, LimitCanBeRaisedPerCheckpoint)
{
    ASSERT_EQ(missing_tools(), "");
    TempDir dir;
    Subject holder{"deleted_holder", {"bigfile", "300", "10"}, 3, {}, false};
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(holder, dir, "run.out", 3, app));
    std::string image = dir.file("image.rpr");
    RunResult too_big = run({tool("cr_checkpoint"), "--rewritten-limit=500m", "--file", image,
                             std::to_string(app->pid())}, dir.path(), std::chrono::seconds(60));
    EXPECT_EQ(exit_code(too_big.status), 255) << too_big.err;
    EXPECT_NE(too_big.err.find("200m"), std::string::npos) << too_big.err;
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {"--rewritten-limit=100m"}, dir.path()));
    RunResult info = run({tool("cr_info"), image}, dir.path(), std::chrono::seconds(30));
    EXPECT_NE(info.out.find("size 68157440, saved 65.0 MiB"), std::string::npos) << info.out;
    app->kill_tree();
}

}  // namespace
}  // namespace crtest
