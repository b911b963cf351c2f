// Files the job changes in place (issue 11 item 8): after a live checkpoint
// and a SIGKILL, a restart brings them back to their state at the checkpoint.
// The subject checks the file against what it wrote and prints MISMATCH when
// the restart left the file as the job changed it after the checkpoint.
#include <gtest/gtest.h>

#include <optional>

#include "cr_engine.h"

namespace crtest {
namespace {

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
    std::string image = dir.file("image.rpr");
    RunResult r = run({tool("cr_checkpoint"), "--file", image, std::to_string(app->pid())}, dir.path(),
                      std::chrono::seconds(60));
    EXPECT_FALSE(r.timed_out);
    EXPECT_NE(exit_code(r.status), 0) << r.err;
    for (const char *needle : {"pid ", "fd 40", "big.dat", "68157440 bytes", "64 MiB", "O_APPEND"})
        EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr should contain \"" << needle << "\": " << r.err;
    EXPECT_FALSE(file_exists(image));
    size_t lines = count_lines(dir.file("run.out"));
    EXPECT_TRUE(wait_for_lines(dir.file("run.out"), lines + 1, std::chrono::seconds(10))) << "no progress after the refusal";
    app->kill_tree();
}

}  // namespace
}  // namespace crtest
