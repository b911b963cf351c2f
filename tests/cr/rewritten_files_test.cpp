// Files the job changes in place (issue 11 item 8): after a live checkpoint
// and a SIGKILL, a restart brings them back to their state at the checkpoint.
// The subject checks the file against what it wrote and prints MISMATCH when
// the restart left the file as the job changed it after the checkpoint.
#include <gtest/gtest.h>

#include "cr_engine.h"

namespace crtest {
namespace {

Subject rewritten(const std::string &mode) { return {"rewritten_files", {mode, "40", "30"}, 10, {}, false}; }

void expect_deterministic(const Subject &subject)
{
    TempDir dir;
    Outcome first, second;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(subject, dir, "first.out", first));
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(subject, dir, "second.out", second));
    EXPECT_EQ(exit_code(first.status), 0) << describe_status(first.status) << "\n" << first.output;
    EXPECT_EQ(first.output.find("MISMATCH"), std::string::npos) << first.output;
    expect_same_outcome(subject, first, second, "second uninterrupted run");
}

TEST(SubjectDeterminism, RewrittenFilePwrite) { expect_deterministic(rewritten("pwrite")); }
TEST(SubjectDeterminism, RewrittenFileMmap) { expect_deterministic(rewritten("mmap")); }
TEST(SubjectDeterminism, RewrittenFileSqlite) { expect_deterministic(rewritten("sqlite")); }

// O_RDWR file whose records are rewritten with pwrite at offsets.
TEST(RewrittenFiles, PwriteAtOffsets) { all_variants_match_reference(rewritten("pwrite")); }

// A file mapped MAP_SHARED writable: main refused it ("changed since the checkpoint").
TEST(RewrittenFiles, SharedWritableMapping) { all_variants_match_reference(rewritten("mmap")); }

// SQLite inserting numbered rows in transactions: no duplicates, no gaps.
TEST(RewrittenFiles, SqliteTransactions) { all_variants_match_reference(rewritten("sqlite")); }

}  // namespace
}  // namespace crtest
