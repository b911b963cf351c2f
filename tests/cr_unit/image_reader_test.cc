// ReadImage on images built here byte by byte: a valid one is accepted and
// decoded; every kind of damage is refused with the right one-line reason.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "agent/section_writer.h"
#include "lib/image_reader.h"

namespace reprise::cr {
namespace {

class SyntheticImage : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cr_unit_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/image";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  // One process with one thread, one anonymous VMA and `pages` saved pages.
  // With zombies, a ZOMBIES section before END; each of `extra` (a section of
  // process 0) before that.
  struct Extra {
    SectionType type;
    std::string payload;
  };
  void Write(uint64_t pages = 2, const std::vector<ZombieRecord>& zombies = {}, uint32_t version = kFormatVersion,
             const std::vector<Extra>& extra = {}) {
    int fd = open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    FileHeader h{};
    memcpy(h.magic, kImageMagic, 8);
    h.version = version;
    h.header_size = sizeof h;
    h.arch = kArchX86_64;
    h.header_hash = reprise_hash(&h, offsetof(FileHeader, header_hash));
    ASSERT_EQ(write(fd, &h, sizeof h), static_cast<ssize_t>(sizeof h));
    std::string cmd = "./prog --flag";
    ImageInfo info{};
    info.process_count = 1;
    info.cmdline_len = static_cast<uint32_t>(cmd.size());
    std::string payload(reinterpret_cast<char*>(&info), sizeof info);
    payload += cmd;
    ASSERT_EQ(agent::AppendSection(fd, kImageWide, SectionType::kImageInfo, payload.data(), payload.size()), 0);
    ProcessRecord p{};
    p.pid = 2;
    ThreadRecord t{};
    t.tid = 2;
    SigactionRecord sa[64] = {};
    ASSERT_EQ(agent::AppendSection(fd, 0, SectionType::kProcess, &p, sizeof p), 0);
    ASSERT_EQ(agent::AppendSection(fd, 0, SectionType::kThreads, &t, sizeof t), 0);
    ASSERT_EQ(agent::AppendSection(fd, 0, SectionType::kSigactions, sa, sizeof sa), 0);
    std::string files;
    FileRecord f{};
    f.fd = 1;
    f.kind = static_cast<uint32_t>(FileKind::kRegular);
    std::string fpath = "/tmp/out.txt";
    f.path_len = static_cast<uint32_t>(fpath.size());
    files.append(reinterpret_cast<char*>(&f), sizeof f);
    files += fpath;
    files.resize(AlignUp(files.size(), 8), '\0');
    ASSERT_EQ(agent::AppendSection(fd, 0, SectionType::kFiles, files.data(), files.size()), 0);
    VmaRecord v{};
    v.start = 0x10000000;
    v.end = v.start + 4 * kPageSize;
    v.flags = kVmaRead | kVmaWrite | kVmaAnon;
    v.run_count = pages ? 1 : 0;
    ASSERT_EQ(agent::AppendSection(fd, 0, SectionType::kVmas, &v, sizeof v), 0);
    off_t here = lseek(fd, 0, SEEK_CUR);
    uint64_t pages_header = static_cast<uint64_t>(here) + sizeof(SectionHeader) + (pages ? sizeof(PageRun) : 0);
    uint64_t data = AlignUp(pages_header + sizeof(SectionHeader), kPageSize);
    PageRun run{v.start, pages, data};
    ASSERT_EQ(agent::AppendSection(fd, 0, SectionType::kRuns, &run, pages ? sizeof run : 0), 0);
    std::vector<char> bytes(pages * kPageSize, 'x');
    SectionHeader ph = agent::MakeSectionHeader(SectionType::kPages, 0, data, bytes.size(),
                                                reprise_hash(bytes.data(), bytes.size()));
    ASSERT_EQ(pwrite(fd, &ph, sizeof ph, static_cast<off_t>(pages_header)), static_cast<ssize_t>(sizeof ph));
    ASSERT_EQ(pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(data)), static_cast<ssize_t>(bytes.size()));
    lseek(fd, static_cast<off_t>(data + bytes.size()), SEEK_SET);
    for (const Extra& e : extra)
      ASSERT_EQ(agent::AppendSection(fd, 0, e.type, e.payload.data(), e.payload.size()), 0);
    if (!zombies.empty()) {
      ASSERT_EQ(agent::AppendSection(fd, kImageWide, SectionType::kZombies, zombies.data(),
                                     zombies.size() * sizeof(ZombieRecord)),
                0);
    }
    uint64_t at = static_cast<uint64_t>(lseek(fd, 0, SEEK_CUR));
    EndRecord end{1 + kSectionsPerProcess + (zombies.empty() ? 0u : 1u) + extra.size(),
                  at + sizeof(SectionHeader) + sizeof(EndRecord)};
    ASSERT_EQ(agent::AppendSection(fd, kImageWide, SectionType::kEnd, &end, sizeof end), 0);
    close(fd);
  }

  std::string Bytes() {
    std::ifstream in(path_, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  void Put(const std::string& bytes) { std::ofstream(path_, std::ios::binary | std::ios::trunc) << bytes; }

  // The message of the ImageError ReadImage throws, or "" if it accepts.
  std::string Error(bool verify_pages = true) {
    try {
      ReadImage(path_, verify_pages);
      return "";
    } catch (const ImageError& e) {
      EXPECT_EQ(e.code(), EINVAL);
      return e.what();
    }
  }

  std::string dir_, path_;
};

TEST_F(SyntheticImage, ValidImageIsDecoded) {
  Write();
  Image img = ReadImage(path_, true);
  ASSERT_EQ(img.processes.size(), 1u);
  EXPECT_EQ(img.cmdline, "./prog --flag");
  const ProcessImage& p = img.processes[0];
  EXPECT_EQ(p.process.pid, 2);
  ASSERT_EQ(p.files.size(), 1u);
  EXPECT_EQ(p.files[0].path, "/tmp/out.txt");
  ASSERT_EQ(p.vmas.size(), 1u);
  EXPECT_EQ(p.runs.size(), 1u);
  EXPECT_EQ(p.pages_size, 2 * kPageSize);
  EXPECT_TRUE(p.pages_verified);
  EXPECT_EQ(img.section_count, 1 + kSectionsPerProcess + 1);  // info, process, end
}

TEST_F(SyntheticImage, ZombiesAreDecoded) {
  Write(2, {{7, 2, 7, 2, 3 << 8, 0}, {8, 2, 2, 2, 15, 0}});
  Image img = ReadImage(path_, true);
  ASSERT_EQ(img.zombies.size(), 2u);
  EXPECT_EQ(img.zombies[0].pid, 7);
  EXPECT_EQ(img.zombies[0].wait_status, 3 << 8);
  EXPECT_EQ(img.zombies[1].ppid, 2);
}

TEST_F(SyntheticImage, ZombieWithoutItsParentOrWithATakenPidIsRefused) {
  Write(2, {{7, 5, 7, 2, 0, 0}});
  EXPECT_NE(Error().find("a zombie's parent is not in the image"), std::string::npos) << Error();
  Write(2, {{2, 2, 2, 2, 0, 0}});
  EXPECT_NE(Error().find("a zombie's pid is not its own"), std::string::npos) << Error();
  Write(2, {{7, 2, 7, 2, 0, 0}, {7, 2, 7, 2, 0, 0}});
  EXPECT_NE(Error().find("a zombie's pid is not its own"), std::string::npos) << Error();
}

// Version 1 images (before zombies were saved) are still read; a version 1
// image cannot hold a ZOMBIES section.
TEST_F(SyntheticImage, VersionOneImagesAreStillRead) {
  Write(2, {}, 1);
  EXPECT_EQ(Error(), "");
  Write(2, {{7, 2, 7, 2, 0, 0}}, 1);
  EXPECT_NE(Error().find("bad zombies section"), std::string::npos) << Error();
  Write(2, {}, 0);
  EXPECT_NE(Error().find("unknown header layout"), std::string::npos) << Error();
}

template <typename T>
std::string RecordBytes(const T& v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

TEST_F(SyntheticImage, SignalsTimersAndLocksAreDecodedAndChecked) {
  PendingSignalRecord s{};
  int signo = 10;
  memcpy(s.info, &signo, sizeof signo);
  s.tid = 2;  // the image's one thread
  PosixTimerRecord t{};
  t.id = 3;
  t.signo = 14;
  t.value_ns = 1000;
  FileLockRecord l{1, kLockPosix, 1, 0, 10, 20};  // fd 1 is open in the image
  Write(2, {}, kFormatVersion,
        {{SectionType::kSignals, RecordBytes(s)}, {SectionType::kPosixTimers, RecordBytes(t)}, {SectionType::kFileLocks, RecordBytes(l)}});
  Image img = ReadImage(path_, true);
  ASSERT_EQ(img.processes[0].pending_signals.size(), 1u);
  EXPECT_EQ(img.processes[0].posix_timers[0].id, 3);
  EXPECT_EQ(img.processes[0].file_locks[0].len, 20);

  PendingSignalRecord other_thread = s;
  other_thread.tid = 99;
  Write(2, {}, kFormatVersion, {{SectionType::kSignals, RecordBytes(other_thread)}});
  EXPECT_NE(Error().find("bad pending signal"), std::string::npos) << Error();
  FileLockRecord closed_fd{7, kLockFlock, 1, 0, 0, 0};
  Write(2, {}, kFormatVersion, {{SectionType::kFileLocks, RecordBytes(closed_fd)}});
  EXPECT_NE(Error().find("bad file lock"), std::string::npos) << Error();
  PosixTimerRecord to_nobody = t;
  to_nobody.notify = 4;  // SIGEV_THREAD_ID
  to_nobody.target_tid = 99;
  Write(2, {}, kFormatVersion, {{SectionType::kPosixTimers, RecordBytes(to_nobody)}});
  EXPECT_NE(Error().find("bad POSIX timer"), std::string::npos) << Error();
  Write(2, {}, 1, {{SectionType::kFileLocks, RecordBytes(l)}});
  EXPECT_NE(Error().find("bad file locks section"), std::string::npos) << Error();
}

TEST_F(SyntheticImage, ImageWithoutPagesIsValid) {
  Write(0);
  EXPECT_EQ(Error(), "");
}

TEST_F(SyntheticImage, EveryTruncationIsReported) {
  Write();
  std::string good = Bytes();
  for (size_t len : {size_t{0}, size_t{5}, size_t{40}, size_t{64}, size_t{100}, good.size() / 2, good.size() - 1}) {
    Put(good.substr(0, len));
    std::string err = Error();
    EXPECT_TRUE(err.find("truncated") != std::string::npos || (len == 0 && err.find("not a Reprise") != std::string::npos))
        << "length " << len << ": " << err;
  }
}

TEST_F(SyntheticImage, EveryFlippedByteIsDetected) {
  Write();
  std::string good = Bytes();
  for (size_t at = 0; at < good.size(); at += good.size() / 97 + 1) {
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    Put(bad);
    std::string err = Error();
    EXPECT_FALSE(err.empty()) << "flip at " << at << " accepted";
  }
}

TEST_F(SyntheticImage, PageDataCorruptionIsLeftToTheRestorerWhenAsked) {
  Write();
  std::string bad = Bytes();
  bad[bad.size() - sizeof(SectionHeader) - sizeof(EndRecord) - 10] ^= 1;  // inside page data
  Put(bad);
  EXPECT_EQ(Error(/*verify_pages=*/false), "");
  EXPECT_NE(Error(/*verify_pages=*/true).find("corrupt"), std::string::npos);
}

TEST_F(SyntheticImage, ForeignAndNewerFilesAreNamedAsSuch) {
  Put(std::string(200, 'z'));
  EXPECT_NE(Error().find("not a Reprise checkpoint image"), std::string::npos);
  Write();
  std::string newer = Bytes();
  newer[8] = static_cast<char>(kFormatVersion + 1);
  Put(newer);
  EXPECT_NE(Error().find("newer"), std::string::npos);
}

TEST_F(SyntheticImage, DataAfterTheEndIsCorrupt) {
  Write();
  Put(Bytes() + "extra");
  EXPECT_NE(Error().find("corrupt"), std::string::npos);
}

TEST(ImageReaderErrors, MissingFileCarriesErrno) {
  try {
    ReadImage("/nonexistent/image", false);
    FAIL();
  } catch (const ImageError& e) {
    EXPECT_EQ(e.code(), ENOENT);
  }
}

}  // namespace
}  // namespace reprise::cr
