// The fixture of the checkpointable-job tests: a real cluster (tests/batch harness), a user
// who owns the counting program, and helpers that check output files and images.
#pragma once
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "harness.h"

namespace reprise::test::ck {

using namespace std::chrono_literals;
namespace fs = std::filesystem;


inline const char* kUser = "reprise_ck1";

inline void spit(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream(path, std::ios::trunc) << text;
  ::chmod(path.c_str(), mode);
}

inline size_t count_lines(const std::string& path) {
  std::string s = slurp(path);
  return size_t(std::count(s.begin(), s.end(), '\n'));
}

// "PREFIX0\nPREFIX1\n...PREFIX(n-1)\n"
inline std::string expected_counts(int n, const std::string& prefix = "Count = ") {
  std::string s;
  for (int i = 0; i < n; ++i) s += prefix + std::to_string(i) + "\n";
  return s;
}

// Names of the images (ckpt.*) in a job's .CK directory.
inline std::vector<std::string> images_in(const std::string& dir) {
  std::vector<std::string> v;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename().string().rfind("ckpt.", 0) == 0) v.push_back(e.path().filename());
  std::sort(v.begin(), v.end());
  return v;
}

class CkJobs : public ::testing::Test {
 protected:
  void SetUp() override {
    uid_ = ensure_user(kUser);
    ASSERT_TRUE(c.ok()) << "cluster did not start";
    work_ = c.workdir(kUser);
    // The counting program (N lines "Count = i", interval in ms), owned by the user.
    std::string prog = work_ + "/counting";
    fs::copy_file(bin("programs/counting"), prog, fs::copy_options::overwrite_existing);
    ASSERT_EQ(::chown(prog.c_str(), uid_, getpwnam(kUser)->pw_gid), 0);
    ::chmod(prog.c_str(), 0755);
  }

  // Appends lines to mom_priv/config and restarts pbs_mom so that it reads them.
  void mom_config(const std::vector<std::string>& lines) {
    std::string path = c.home() + "/mom_priv/config";
    std::string text = slurp(path);
    if (!text.empty() && text.back() != '\n') text += "\n";
    for (const auto& l : lines) text += l + "\n";
    spit(path, text);
    c.kill_mom(SIGKILL);
    Result r = run({bin("pbs_mom"), "-d", c.home()}, "", c.env());
    ASSERT_EQ(r.code, 0) << "pbs_mom refused to start with " << text << r.out << r.err;
    std::this_thread::sleep_for(1s);
    ASSERT_TRUE(wait_for([&] { return c.cmd("", {"pbsnodes", "-a"}).out.find("state = free") != std::string::npos; },
                         20s))
        << "node did not come back after the mom restart";
  }

  // Submits the counting program (n counts, ms apart) with qsub `opts`, job name "ck".
  std::string submit_counting(const std::vector<std::string>& opts, int n, int ms) {
    std::vector<std::string> all{"-N", "ck", "-d", work_};
    all.insert(all.end(), opts.begin(), opts.end());
    return c.submit(kUser, "#!/bin/bash\n\n./counting " + std::to_string(n) + " " + std::to_string(ms) + "\n", all);
  }
  std::string out_of(const std::string& id) { return work_ + "/ck.o" + seq_of(id); }
  bool wait_lines(const std::string& id, size_t n, int seconds = 30) {
    return wait_for([&] { return count_lines(out_of(id)) >= n; }, std::chrono::seconds(seconds));
  }
  std::string mom_log() { return slurp(c.home() + "/mom_logs/mom.log"); }
  // Diagnostics for a failed expectation.
  std::string why(const std::string& id) {
    return "\n--- qstat -f\n" + c.cmd("", {"qstat", "-f", id}).out + "--- output\n" + slurp(out_of(id)) +
           "--- mom log (tail)\n" + tail(mom_log(), 3000);
  }
  static std::string tail(const std::string& s, size_t n) { return s.size() > n ? s.substr(s.size() - n) : s; }

  // The job's image directory, from checkpoint_dir: either the .CK dir itself or its parent.
  std::string ck_dir(const std::string& id) {
    std::string d = c.attr(id, "checkpoint_dir");
    if (d.size() > 3 && d.compare(d.size() - 3, 3, ".CK") == 0) return d;
    return d + "/" + id + ".CK";
  }

  // qhold a running job and wait for H; checks the checkpoint attributes and files.
  void hold_and_check(const std::string& id) {
    ASSERT_EQ(c.cmd(kUser, {"qhold", id}).code, 0);
    ASSERT_TRUE(c.wait_state(id, "H", 60)) << why(id);
    std::string name = c.attr(id, "checkpoint_name");
    ASSERT_FALSE(name.empty()) << why(id);
    EXPECT_FALSE(c.attr(id, "checkpoint_time").empty());
    EXPECT_FALSE(c.attr(id, "checkpoint_dir").empty());
    EXPECT_EQ(c.attr(id, "comment"), "Job checkpointed and held");
    std::string dir = ck_dir(id);
    struct stat st{};
    ASSERT_EQ(::stat(dir.c_str(), &st), 0) << dir;
    EXPECT_TRUE(S_ISDIR(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0700u) << dir;
    EXPECT_EQ(st.st_uid, uid_) << dir;
    ASSERT_EQ(::stat((dir + "/" + name).c_str(), &st), 0) << dir << "/" << name;
    EXPECT_EQ(st.st_mode & 07777, 0400u);
    EXPECT_EQ(st.st_uid, uid_);
    // Stopped: the output does not grow while the job is held.
    size_t before = count_lines(out_of(id));
    std::this_thread::sleep_for(1200ms);
    EXPECT_EQ(count_lines(out_of(id)), before) << "the held job is still writing";
  }

  void release_and_finish(const std::string& id, int n, const std::string& prefix = "Count = ", int seconds = 60) {
    ASSERT_EQ(c.cmd(kUser, {"qrls", id}).code, 0);
    ASSERT_TRUE(c.wait_state(id, "C", seconds)) << why(id);
    EXPECT_EQ(c.attr(id, "exit_status"), "0") << why(id);
    EXPECT_EQ(slurp(out_of(id)), expected_counts(n, prefix)) << why(id);
  }

  // Polls the output file until the job completes; returns the smallest line count seen
  // once it dropped below `above` (the restart cut it back), or -1 if it never did.
  long lowest_after_cut(const std::string& id, size_t above, int seconds) {
    long lowest = -1;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < end) {
      size_t n = count_lines(out_of(id));
      if (n < above && (lowest < 0 || long(n) < lowest)) lowest = long(n);
      if (lowest >= 0 && n >= above) break;
      std::this_thread::sleep_for(20ms);
    }
    return lowest;
  }

  Cluster c;
  uid_t uid_ = 0;
  std::string work_;
};

}  // namespace reprise::test::ck
