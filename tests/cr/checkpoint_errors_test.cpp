// cr_checkpoint failure modes: each gives a one-line message with a fixed
// substring and a non-zero (sometimes fixed) exit status, leaves no file
// under the final name, and leaves the process running.
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "subjects.h"

namespace crtest {
namespace {

constexpr const char *kTestUser = "reprise_crtest";

void expect_one_line_error(const RunResult &r, const std::string &needle, int code)
{
    EXPECT_FALSE(r.timed_out) << "cr_checkpoint hung";
    if (code >= 0)
        EXPECT_EQ(describe_status(r.status), "exit " + std::to_string(code)) << r.err;
    else
        EXPECT_NE(exit_code(r.status), 0) << describe_status(r.status);
    EXPECT_TRUE(r.err.find(needle) != std::string::npos)
        << "stderr should contain \"" << needle << "\", got: " << r.err;
    EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "not a one-line error: " << r.err;
}

// The program keeps printing after the failed checkpoint.
void expect_still_running(pid_t pid, const std::string &output)
{
    EXPECT_TRUE(process_alive(pid)) << "process " << pid << " died after a failed checkpoint";
    size_t lines = count_lines(output);
    EXPECT_TRUE(wait_for_lines(output, lines + 1, 10s))
        << "program made no progress after a failed checkpoint";
}

TEST(CheckpointErrors, ProgramNotStartedUnderCrRun)
{
    ASSERT_EQ(missing_tools(), "");
    TempDir dir;
    Process app = Process::spawn({program("counting"), "1000", "20"},
                                 {dir.path(), dir.file("run.out"), "", {}, {}});
    ASSERT_TRUE(wait_for_lines(dir.file("run.out"), 2, 10s));
    std::string image = dir.file("image.rpr");
    RunResult r = run({tool("cr_checkpoint"), "--file", image, std::to_string(app.pid())},
                      dir.path(), 30s);
    expect_one_line_error(r, "support missing from application", -1);
    EXPECT_FALSE(file_exists(image));
    expect_still_running(app.pid(), dir.file("run.out"));
}

TEST(CheckpointErrors, NoSuchProcessExits3)
{
    ASSERT_EQ(missing_tools(), "");
    // A pid that certainly existed a moment ago and has been reaped.
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    ASSERT_GT(gone, 0);
    ASSERT_EQ(waitpid(gone, nullptr, 0), gone);
    TempDir dir;
    RunResult r = run({tool("cr_checkpoint"), "--file", dir.file("image.rpr"), std::to_string(gone)},
                      dir.path(), 30s);
    expect_one_line_error(r, "No such process", 3);
    EXPECT_TRUE(list_dir(dir.path()).empty()) << "files left behind";
}

// A tmpfs mounted for the duration of a test.
class SmallTmpfs {
public:
    explicit SmallTmpfs(const std::string &path) : path_(path)
    {
        mkdir(path.c_str(), 0755);
        mounted_ = mount("tmpfs", path.c_str(), "tmpfs", 0, "size=1m") == 0;
        error_ = errno;
    }
    ~SmallTmpfs()
    {
        if (mounted_)
            umount2(path_.c_str(), MNT_DETACH);
    }
    bool mounted() const { return mounted_; }
    int error() const { return error_; }

private:
    std::string path_;
    bool mounted_ = false;
    int error_ = 0;
};

TEST(CheckpointErrors, DiskFullExits28LeavesNoImageAndProcessContinues)
{
    ASSERT_EQ(missing_tools(), "");
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root to mount a 1 MiB tmpfs";
    TempDir dir;
    SmallTmpfs full(dir.file("full"));
    if (!full.mounted())
        GTEST_SKIP() << "cannot mount tmpfs: " << strerror(full.error());

    // 16 MiB of incompressible memory cannot fit in 1 MiB.
    Subject subject{"big_memory", {"16", "40", "50"}, 2, {}, false};
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(subject, dir, "reference.out", reference));
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, dir, "run.out", 2, app));
    RunResult r = run({tool("cr_checkpoint"), "--file", dir.file("full/image.rpr"),
                       std::to_string(app->pid())},
                      dir.path(), 60s);
    expect_one_line_error(r, "No space left on device", 28);
    EXPECT_FALSE(file_exists(dir.file("full/image.rpr"))) << "partial image under the final name";
    EXPECT_TRUE(list_dir(dir.file("full")).empty())
        << "temporary file left behind on the full file system";
    expect_still_running(app->pid(), dir.file("run.out"));

    auto status = app->wait(60s);
    ASSERT_TRUE(status);
    Outcome finished{*status, read_file(dir.file("run.out")), {}};
    expect_same_outcome(subject, reference, finished, "after a failed (disk full) checkpoint");
}

TEST(CheckpointErrors, UnwritableDirectoryExits13LeavesNoImageAndProcessContinues)
{
    ASSERT_EQ(missing_tools(), "");
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root to create and switch to the user " << kTestUser;
    const passwd *pw = unprivileged_test_user();
    ASSERT_NE(pw, nullptr) << "could not create user " << kTestUser;
    uid_t uid = pw->pw_uid;
    gid_t gid = pw->pw_gid;

    TempDir dir; // the user's working directory
    ASSERT_EQ(chown(dir.path().c_str(), uid, gid), 0);
    std::string locked = dir.file("locked"); // root-owned 0755: not writable by the user
    ASSERT_EQ(mkdir(locked.c_str(), 0755), 0);

    RunResult probe = run({"/usr/bin/test", "-x", tool("cr_run")}, dir.path(), 10s, uid, gid);
    ASSERT_EQ(exit_code(probe.status), 0)
        << kTestUser << " cannot execute " << tool("cr_run") << " (directory permissions?)";

    Process app = Process::spawn({tool("cr_run"), program("counting"), "1000", "20"},
                                 {dir.path(), dir.file("run.out"), dir.file("run.err"), uid, gid});
    ASSERT_TRUE(wait_for_lines(dir.file("run.out"), 2, 20s))
        << "cr_run as an unprivileged user did not start the program; stderr: "
        << read_file(dir.file("run.err"));
    RunResult r = run({tool("cr_checkpoint"), "--file", locked + "/image.rpr",
                       std::to_string(app.pid())},
                      dir.path(), 60s, uid, gid);
    expect_one_line_error(r, "Permission denied", 13);
    EXPECT_TRUE(list_dir(locked).empty()) << "file left in the unwritable directory";
    expect_still_running(app.pid(), dir.file("run.out"));
}

// A checkpointer killed while it writes (the mom kills it when the job is deleted) leaves no
// file in the image directory: the image has no name until it is complete.
TEST(CheckpointErrors, KilledWhileWritingLeavesNoFileAndProcessContinues)
{
    ASSERT_EQ(missing_tools(), "");
    TempDir dir;
    std::string images = dir.file("images");
    ASSERT_EQ(mkdir(images.c_str(), 0755), 0);
    Subject subject{"big_memory", {"512", "40", "50"}, 2, {}, false};
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, dir, "run.out", 2, app));
    Process checkpointer = Process::spawn({tool("cr_checkpoint"), "--file", images + "/image.rpr",
                                           std::to_string(app->pid())},
                                          {dir.path(), dir.file("ckpt.out"), dir.file("ckpt.err"), {}, {}});
    // Wait until the checkpointer holds its image file open, then kill it mid-write.
    std::string fd_dir = "/proc/" + std::to_string(checkpointer.pid()) + "/fd";
    bool writing = false;
    for (int i = 0; i < 2000 && !writing && !checkpointer.exited(); ++i) {
        for (const std::string &fd : list_dir(fd_dir)) {
            char target[4096];
            ssize_t n = readlink((fd_dir + "/" + fd).c_str(), target, sizeof target - 1);
            if (n > 0 && std::string(target, n).rfind(images + "/", 0) == 0)
                writing = true;
        }
        if (!writing)
            usleep(1000);
    }
    ASSERT_TRUE(writing) << "cr_checkpoint never opened its image; stderr: " << read_file(dir.file("ckpt.err"));
    kill(checkpointer.pid(), SIGKILL);
    ASSERT_TRUE(checkpointer.wait(10s));
    ASSERT_FALSE(file_exists(images + "/image.rpr"))
        << "the checkpoint finished before it was killed: the subject is too small to test this";
    expect_still_running(app->pid(), dir.file("run.out"));
    std::vector<std::string> left = list_dir(images);
    EXPECT_TRUE(left.empty()) << "left behind in the image directory: " << left.front();
    app->kill_tree();
}

} // namespace
} // namespace crtest
