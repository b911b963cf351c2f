// Root restarting another user's image (an admin doing it by hand). The paths
// in an image are the owner's to choose: an image is checksummed, not signed,
// and the owner can also swap the files it names for symlinks after the
// checkpoint. cr_restart must then reach only what the owner could.
#include <gtest/gtest.h>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <set>
#include <vector>

#include "cr_engine.h"
#include "cr_test_util.h"

namespace crtest {
namespace {

// Runs a subject (file_io by default) as the test user in `dir` (chowned to
// it) and checkpoints it with --kill as that user; returns the image path.
std::string user_image(const TempDir &dir, uid_t uid, gid_t gid, std::vector<std::string> subject = {})
{
    EXPECT_EQ(chown(dir.path().c_str(), uid, gid), 0);
    if (subject.empty())
        subject = {program("file_io"), dir.path(), "400", "30"};
    subject.insert(subject.begin(), tool("cr_run"));
    Process app = Process::spawn(subject, {dir.path(), dir.file("run.out"), dir.file("run.err"), uid, gid});
    EXPECT_TRUE(wait_for_lines(dir.file("run.out"), 3, 20s)) << read_file(dir.file("run.err"));
    std::string image = dir.file("image.rpr");
    RunResult ck = run({tool("cr_checkpoint"), "--kill", "--file", image, std::to_string(app.pid())},
                       dir.path(), 60s, uid, gid);
    EXPECT_EQ(exit_code(ck.status), 0) << ck.err;
    app.wait(10s);
    return image;
}

TEST(RootRestart, RestartsAUsersImageAsThatUser)
{
    ASSERT_EQ(missing_tools(), "");
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root to restart another user's image";
    const passwd *pw = unprivileged_test_user();
    ASSERT_NE(pw, nullptr) << "could not create the test user";
    TempDir dir;
    std::string image = user_image(dir, pw->pw_uid, pw->pw_gid);
    ASSERT_FALSE(HasFailure());
    RunResult r = run({tool("cr_restart"), image}, dir.path(), 120s);
    EXPECT_EQ(describe_status(r.status), "exit 0") << r.err;
    struct stat st {};
    ASSERT_EQ(stat(dir.file("file_io.log").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, pw->pw_uid) << "the restored program's files are not the owner's";
}

// The zombies of a user's image (cloned by root's cr_restart) belong to the
// owner like the rest of the tree. zombie_children's first child exits at
// once and is reaped only at the end, so it is a zombie for the whole run.
TEST(RootRestart, RestoredZombiesBelongToTheOwner)
{
    ASSERT_EQ(missing_tools(), "");
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root to restart another user's image";
    const passwd *pw = unprivileged_test_user();
    ASSERT_NE(pw, nullptr) << "could not create the test user";
    TempDir dir;
    std::string image = user_image(dir, pw->pw_uid, pw->pw_gid, {program("zombie_children"), "60", "100"});
    ASSERT_FALSE(HasFailure());
    Process restarted = Process::spawn({tool("cr_restart"), image}, {"/", dir.file("restart.out"),
                                                                     dir.file("restart.err"), {}, {}});
    size_t lines = count_lines(dir.file("run.out"));
    ASSERT_TRUE(wait_for_lines(dir.file("run.out"), lines + 2, 20s)) << read_file(dir.file("restart.err"));
    // The restored program, and the zombies it has as children (a restored
    // zombie is a clone of cr_restart: its name is not the program's).
    std::set<std::string> parents;
    std::vector<std::string> statuses;
    for (const auto &entry : std::filesystem::directory_iterator("/proc")) {
        std::string status = read_file(entry.path().string() + "/status");
        if (status.empty())
            continue;
        statuses.push_back(status);
        if (status.find("Name:\tzombie_children") != std::string::npos && status.find("State:\tZ") == std::string::npos)
            parents.insert(entry.path().filename().string());
    }
    int zombies = 0, not_owners = 0;
    for (const std::string &status : statuses) {
        size_t at = status.find("PPid:\t");
        std::string ppid = at == std::string::npos ? "" : status.substr(at + 6, status.find('\n', at) - at - 6);
        if (status.find("State:\tZ") == std::string::npos || !parents.count(ppid))
            continue;
        ++zombies;
        if (status.find("Uid:\t" + std::to_string(pw->pw_uid) + "\t") == std::string::npos)
            ++not_owners;
    }
    EXPECT_GE(zombies, 1) << "no zombie in the restored tree";
    EXPECT_EQ(not_owners, 0) << "a restored zombie does not belong to uid " << pw->pw_uid;
    auto status = restarted.wait(60s);
    ASSERT_TRUE(status);
    EXPECT_EQ(describe_status(*status), "exit 0") << read_file(dir.file("restart.err"));
}

TEST(RootRestart, OpensTheImagesFilesOnlyAsItsOwnerCould)
{
    ASSERT_EQ(missing_tools(), "");
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root to restart another user's image";
    const passwd *pw = unprivileged_test_user();
    ASSERT_NE(pw, nullptr) << "could not create the test user";
    TempDir dir; // the owner's directory: file_io works in it
    TempDir vault; // root's: only root may enter
    ASSERT_EQ(chmod(vault.path().c_str(), 0700), 0);
    write_file(vault.file("secret"), "root's secret\n");
    std::string image = user_image(dir, pw->pw_uid, pw->pw_gid);
    ASSERT_FALSE(HasFailure());

    // The owner points the file the image reopens for reading at root's secret.
    // (Files rewritten from the image are opened with O_NOFOLLOW: swapping
    // file_io.out for a symlink fails on its own.)
    ASSERT_EQ(unlink(dir.file("file_io.in").c_str()), 0);
    ASSERT_EQ(symlink(vault.file("secret").c_str(), dir.file("file_io.in").c_str()), 0);
    RunResult r = run({tool("cr_restart"), image}, dir.path(), 60s);
    EXPECT_NE(exit_code(r.status), 0) << "root restarted the image through the owner's symlinks: " << r.out;
    EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("secret"), std::string::npos) << r.out;
}

} // namespace
} // namespace crtest
