// Memory shared between processes of the tree (issue 11 item 5), and files
// that exist only in the kernel (item 4): each subject checks the sharing
// itself and prints a MISMATCH line when a write of one process is not seen
// by another, so a restore into separate copies changes its output.
#include <gtest/gtest.h>
#include <unistd.h>

#include "cr_engine.h"

using namespace std::chrono_literals;

namespace crtest {
namespace {

Subject shared_counter(const std::string &procs, const std::string &kind = "anon")
{
    return {"shared_counter", {procs, "40", "30", kind}, 10, {}, false};
}

TEST(SubjectDeterminism, SharedCounterTwoProcesses) { expect_deterministic(shared_counter("2")); }
TEST(SubjectDeterminism, SharedCounterThreeProcesses) { expect_deterministic(shared_counter("3")); }

// MAP_SHARED|MAP_ANONYMOUS inherited across fork: parent and child.
TEST(SharedMemory, AnonymousSharedParentAndChild) { all_variants_match_reference(shared_counter("2")); }

// A chain of three, one of which maps a sub-range and another mremaps it.
TEST(SharedMemory, AnonymousSharedTreeOfThree) { all_variants_match_reference(shared_counter("3")); }

TEST(SubjectDeterminism, SharedCounterPosixShm) { expect_deterministic(shared_counter("2", "posix")); }

// A POSIX shm object still linked in /dev/shm, opened by name in each process:
// the live variant changes it after the checkpoint, so the restart must
// bring back its contents at the checkpoint (tmpfs keeps no mtime to tell).
TEST(SharedMemory, PosixShmByName) { all_variants_match_reference(shared_counter("2", "posix")); }

Subject scratch_files() { return {"scratch_files", {"30", "30"}, 10, {}, false}; }
Subject fortran_scratch() { return {"fortran_scratch", {"40", "30"}, 10, {}, false}; }
Subject python(const std::string &mode)
{
    return {"py_multiprocessing.py", {mode, "30", "30"}, 10, {}, false};
}

bool have_program(const std::string &name) { return access(program(name).c_str(), X_OK) == 0; }

TEST(SubjectDeterminism, ScratchFiles) { expect_deterministic(scratch_files()); }

// memfd (sealed) shared by mapping and fd, an unlinked O_APPEND scratch file
// shared across fork, an unlinked POSIX shm mapping, tmpfile().
TEST(DeletedFiles, MemfdScratchShmAndTmpfile) { all_variants_match_reference(scratch_files()); }

TEST(SubjectDeterminism, FortranScratch)
{
    if (!have_program("fortran_scratch"))
        GTEST_SKIP() << "gfortran was not installed when the subjects were built";
    expect_deterministic(fortran_scratch());
}

TEST(DeletedFiles, FortranStatusScratch)
{
    if (!have_program("fortran_scratch"))
        GTEST_SKIP() << "gfortran was not installed when the subjects were built";
    all_variants_match_reference(fortran_scratch());
}

TEST(SubjectDeterminism, PythonPool) { expect_deterministic(python("pool")); }
TEST(SubjectDeterminism, PythonQueue) { expect_deterministic(python("queue")); }
TEST(SubjectDeterminism, PythonLock) { expect_deterministic(python("lock")); }
TEST(SubjectDeterminism, PythonProcessPoolExecutor) { expect_deterministic(python("executor")); }

// multiprocessing's semaphores: sem_open'ed in /dev/shm, mapped, unlinked at
// once, inherited by fork; mp.Value: an unlinked /dev/shm file kept open.
TEST(PythonMultiprocessing, Pool) { all_variants_match_reference(python("pool")); }
TEST(PythonMultiprocessing, Queue) { all_variants_match_reference(python("queue")); }
TEST(PythonMultiprocessing, LockAndValue) { all_variants_match_reference(python("lock")); }
TEST(PythonMultiprocessing, ProcessPoolExecutor) { all_variants_match_reference(python("executor")); }

// What still cannot be restored is refused at checkpoint time, in one line
// naming the process, the fd or address and the kind of object.
void expect_refused(const std::string &mode, const std::vector<std::string> &needles)
{
    ASSERT_EQ(missing_tools(), "");
    TempDir dir;
    Subject holder{"deleted_holder", {mode, "300", "10"}, 3, {}, false};
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(holder, dir, "run.out", 3, app));
    std::string image = dir.file("image.rpr");
    RunResult r = run({tool("cr_checkpoint"), "--file", image, std::to_string(app->pid())}, dir.path(), 60s);
    EXPECT_FALSE(r.timed_out);
    EXPECT_NE(exit_code(r.status), 0) << r.err;
    for (const std::string &needle : needles)
        EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr should contain \"" << needle << "\": " << r.err;
    EXPECT_FALSE(file_exists(image));
    size_t lines = count_lines(dir.file("run.out"));
    EXPECT_TRUE(wait_for_lines(dir.file("run.out"), lines + 1, 10s)) << "no progress after the refusal";
    app->kill_tree();
}

TEST(DeletedFiles, MemfdLargerThanTheLimitIsRefused)
{
    expect_refused("big", {"pid ", "fd 40", "deleted file or memfd", "64 MiB"});
}

TEST(DeletedFiles, PrivateMappingOfADeletedFileIsRefused)
{
    expect_refused("privmap", {"pid ", "private mapping of a deleted file", "0x"});
}

TEST(SysvIpc, SemaphoresAreRefused)
{
    expect_refused("sysvsem", {"pid ", "SysV semaphores", "POSIX semaphores"});
}

} // namespace
} // namespace crtest
