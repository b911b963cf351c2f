// Memory shared between processes of the tree (issue 11 item 5), and files
// that exist only in the kernel (item 4): each subject checks the sharing
// itself and prints a MISMATCH line when a write of one process is not seen
// by another, so a restore into separate copies changes its output.
#include <gtest/gtest.h>

#include "cr_engine.h"

namespace crtest {
namespace {

Subject shared_counter(const std::string &procs)
{
    return {"shared_counter", {procs, "40", "30"}, 10, {}, false};
}

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

TEST(SubjectDeterminism, SharedCounterTwoProcesses) { expect_deterministic(shared_counter("2")); }
TEST(SubjectDeterminism, SharedCounterThreeProcesses) { expect_deterministic(shared_counter("3")); }

// MAP_SHARED|MAP_ANONYMOUS inherited across fork: parent and child.
TEST(SharedMemory, AnonymousSharedParentAndChild) { all_variants_match_reference(shared_counter("2")); }

// A chain of three, one of which maps a sub-range and another mremaps it.
TEST(SharedMemory, AnonymousSharedTreeOfThree) { all_variants_match_reference(shared_counter("3")); }

} // namespace
} // namespace crtest
