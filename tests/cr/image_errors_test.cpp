// cr_restart and cr_info on bad images: truncated, corrupted (a byte flipped
// anywhere), foreign, newer format. Each must fail with a one-line message
// naming the problem, a non-zero exit, and must not start the program (its
// output file stays exactly as it was).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>

#include "subjects.h"

namespace crtest {
namespace {

class BadImage : public testing::Test {
protected:
    // One good image for the whole suite: counting, killed after 5 lines.
    static void SetUpTestSuite()
    {
        dir_ = std::make_unique<TempDir>();
        setup_error_ = missing_tools();
        if (!setup_error_.empty())
            return;
        Subject subject{"counting", {"20", "30"}, 5, {}, false};
        Process app = Process::spawn({tool("cr_run"), program("counting"), "20", "30"},
                                     {dir_->path(), out(), out() + ".err", {}, {}});
        if (!wait_for_lines(out(), 5, 30s)) {
            setup_error_ = "counting under cr_run made no progress: " + read_file(out() + ".err");
            return;
        }
        RunResult r = run({tool("cr_checkpoint"), "--kill", "--file", good(),
                           std::to_string(app.pid())},
                          dir_->path(), 60s);
        if (exit_code(r.status) != 0 || !file_exists(good()))
            setup_error_ = "could not make a good image: " + describe_status(r.status) + ": " + r.err;
        app.wait(10s);
        image_ = read_file(good());
        if (setup_error_.empty() && image_.size() < 64)
            setup_error_ = "image is implausibly small";
    }
    static void TearDownTestSuite() { dir_.reset(); }

    void SetUp() override
    {
        ASSERT_EQ(setup_error_, "");
        output_before_ = read_file(out());
    }

    static std::string out() { return dir_->file("run.out"); }
    static std::string good() { return dir_->file("good.rpr"); }
    static std::string bad() { return dir_->file("bad.rpr"); }

    static void write_bad(std::string_view content)
    {
        unlink(bad().c_str());
        write_file(bad(), content);
    }

    // Runs cr_restart and cr_info on bad.rpr and checks both reject it with
    // one of `accepted` in their one-line message.
    void expect_rejected(const std::vector<std::string> &accepted, const std::string &what)
    {
        for (const char *name : {"cr_restart", "cr_info"}) {
            RunResult r = run({tool(name), bad()}, dir_->path(), 30s);
            EXPECT_FALSE(r.timed_out) << name << " hung on " << what;
            EXPECT_NE(exit_code(r.status), 0)
                << name << " accepted " << what << " (" << describe_status(r.status) << ")";
            bool named = std::any_of(accepted.begin(), accepted.end(), [&](const std::string &s) {
                return r.err.find(s) != std::string::npos;
            });
            std::string list;
            for (const auto &s : accepted)
                list += " \"" + s + "\"";
            EXPECT_TRUE(named) << name << " on " << what << ": stderr should contain one of" << list
                               << ", got: " << r.err;
            EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 1)
                << name << " on " << what << ": not a one-line error: " << r.err;
        }
        // Had the program been started it would print within milliseconds.
        usleep(50 * 1000);
        EXPECT_TRUE(read_file(out()) == output_before_)
            << "the program's output file changed: cr_restart ran (or truncated) something for "
            << what;
    }

    static inline std::unique_ptr<TempDir> dir_;
    static inline std::string setup_error_;
    static inline std::string image_;
    std::string output_before_;
};

TEST_F(BadImage, GoodImageIsAcceptedByCrInfo)
{
    // Guards the tests below: the unmodified image must be fine.
    RunResult r = run({tool("cr_info"), good()}, dir_->path(), 30s);
    EXPECT_EQ(exit_code(r.status), 0) << describe_status(r.status) << ": " << r.err;
    EXPECT_EQ(image_.compare(0, 8, std::string("RPRSIMG\0", 8)), 0) << "magic not at offset 0";
}

TEST_F(BadImage, TruncatedImagesAreRejected)
{
    size_t size = image_.size();
    for (size_t keep : {size_t{12}, size_t{40}, size / 4, size / 2, size - 4096, size - 1}) {
        if (keep < 12 || keep >= size)
            continue;
        write_bad(std::string_view(image_).substr(0, keep));
        expect_rejected({"truncated"}, "image cut to " + std::to_string(keep) + " of " +
                                           std::to_string(size) + " bytes");
    }
}

TEST_F(BadImage, EveryFlippedByteIsDetected)
{
    // ~30 positions: the header, the metadata near the start, page data
    // spread through the file, and the very end.
    size_t size = image_.size();
    std::set<size_t> positions{0, 5, 8, 9, 11, 12, 16, 24, 32, 48, 64, 100, 200, 512, 1000,
                               size - 1, size - 2, size - 8, size - 64, size - 4096};
    for (int i = 1; i <= 12; i++)
        positions.insert(size * static_cast<size_t>(i) / 13);
    for (size_t pos : positions) {
        if (pos >= size)
            continue;
        std::string copy = image_;
        copy[pos] = static_cast<char>(copy[pos] ^ 0xff);
        write_bad(copy);
        std::vector<std::string> accepted{"corrupt"};
        if (pos < 8)
            accepted.push_back("not a Reprise checkpoint image"); // the magic
        else if (pos < 12)
            accepted = {"newer"}; // version 2 xor 0xff.. is always larger
        else
            accepted.push_back("truncated"); // a flipped length may point past the end
        expect_rejected(accepted, "image with byte " + std::to_string(pos) + " of " +
                                      std::to_string(size) + " flipped");
        if (HasFailure())
            return; // one clear failure is enough
    }
}

TEST_F(BadImage, ForeignFilesAreRejected)
{
    write_bad("#!/bin/sh\necho this is not an image\n");
    expect_rejected({"not a Reprise checkpoint image"}, "a shell script");
    write_bad(read_file("/bin/true"));
    expect_rejected({"not a Reprise checkpoint image"}, "an ELF executable");
    write_bad(std::string(100000, '\0'));
    expect_rejected({"not a Reprise checkpoint image"}, "100000 zero bytes");
    write_bad("");
    expect_rejected({"not a Reprise checkpoint image", "truncated"}, "an empty file");
}

TEST_F(BadImage, NewerFormatVersionIsRejected)
{
    for (uint32_t version : {3u, 255u, 0xffffffffu}) {
        std::string copy = image_;
        for (int i = 0; i < 4; i++)
            copy[8 + i] = static_cast<char>((version >> (8 * i)) & 0xff);
        write_bad(copy);
        expect_rejected({"newer"}, "format version " + std::to_string(version));
    }
}

TEST(MissingImage, CrRestartFailsWithAMessage)
{
    ASSERT_EQ(missing_tools(), "");
    TempDir dir;
    RunResult r = run({tool("cr_restart"), dir.file("no-such-image.rpr")}, dir.path(), 30s);
    EXPECT_NE(exit_code(r.status), 0) << describe_status(r.status);
    EXPECT_FALSE(r.err.empty()) << "no message for a missing image";
    EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

} // namespace
} // namespace crtest
