// Root restarting another user's image (an admin doing it by hand). The paths
// in an image are the owner's to choose: an image is checksummed, not signed,
// and the owner can also swap the files it names for symlinks after the
// checkpoint. cr_restart must then reach only what the owner could.
#include <gtest/gtest.h>

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cr_engine.h"
#include "cr_test_util.h"

namespace crtest {
namespace {

// Runs file_io as the test user in `dir` (chowned to it) and checkpoints it
// with --kill as that user; returns the image path.
std::string user_image(const TempDir &dir, uid_t uid, gid_t gid)
{
    EXPECT_EQ(chown(dir.path().c_str(), uid, gid), 0);
    Process app = Process::spawn({tool("cr_run"), program("file_io"), dir.path(), "400", "30"},
                                 {dir.path(), dir.file("run.out"), dir.file("run.err"), uid, gid});
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
