// A site's install, end to end: the build is installed into an empty temporary root (as
// `DESTDIR=ROOT cmake --install build` and as the Debian package unpacked with dpkg-deb),
// then munged, pbs_server and pbs_mom are started from the installed files only and a
// checkpointable job goes through qhold (checkpoint) and qrls (restart) to its end.
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "harness.h"

namespace reprise::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const char* kUser = "reprise_inst1";

std::string make_root() {
  char tmpl[] = "/tmp/reprise-install.XXXXXX";
  if (!mkdtemp(tmpl)) return "";
  ::chmod(tmpl, 0755);  // the job's owner runs programs from here
  return tmpl;
}

std::string counts(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "Count = " + std::to_string(i) + "\n";
  return s;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class Installed : public ::testing::Test {
 protected:
  void TearDown() override {
    cluster_.reset();
    use_installed_programs("");
    if (!root_.empty() && !std::getenv("REPRISE_KEEP_TEST_HOME")) fs::remove_all(root_);
  }

  // The files a site needs, at the paths the tools look for them.
  void expect_layout(const std::string& prefix) {
    for (const char* p : {"bin/qsub", "bin/qstat", "bin/qdel", "bin/qhold", "bin/qrls", "bin/qchkpt", "bin/qrerun",
                          "bin/qrun", "bin/qsig", "bin/qalter", "bin/qmgr", "bin/pbsnodes", "bin/cr_run",
                          "bin/cr_checkpoint", "bin/cr_restart", "bin/cr_info", "bin/tracejob", "bin/qselect", "bin/qmove", "bin/qorder", "bin/qmsg",
                          "bin/qterm", "bin/qenable", "bin/qdisable", "bin/qstart", "bin/qstop", "bin/printjob", "sbin/pbs_server", "sbin/pbs_mom",
                          "lib/reprise/cr_restorer", "lib/reprise/reprise_checkpoint_script",
                          "lib/reprise/reprise_restart_script"})
      EXPECT_EQ(::access((prefix + "/" + p).c_str(), X_OK), 0) << prefix << "/" << p << " is not an installed program";
    EXPECT_TRUE(fs::exists(prefix + "/lib/reprise/libreprise_agent.so"));
    for (const char* m : {"man1/qsub.1", "man1/qstat.1", "man1/cr_run.1", "man8/pbs_server.8", "man8/pbs_mom.8",
                          "man8/qmgr.8", "man5/pbs_mom_config.5", "man5/pbs_nodes.5"})
      EXPECT_TRUE(fs::exists(prefix + "/share/man/" + m)) << m;
    std::string unit = slurp(prefix + "/lib/systemd/system/pbs_mom.service");
    EXPECT_TRUE(has(unit, "Requires=munge.service")) << unit;
    EXPECT_TRUE(has(unit, "After=network-online.target munge.service")) << unit;
    EXPECT_TRUE(has(slurp(prefix + "/lib/systemd/system/pbs_server.service"), "sbin/pbs_server -d")) << unit;
    EXPECT_TRUE(has(slurp(root_ + "/etc/default/pbs_mom"), "PBS_MOM_ARGS"));
    EXPECT_TRUE(has(slurp(root_ + REPRISE_PBS_HOME_DEFAULT + "/mom_priv/config"), "$pbsserver"));
  }

  // munged + pbs_server + pbs_mom from `prefix`, and one checkpointable job: qhold
  // checkpoints and stops it, qrls restarts it from its image, and it ends with every line once.
  void run_checkpointable_job(const std::string& prefix) {
    // The installed cr_run preloads the installed agent (found beside its own path).
    Result r = run({prefix + "/bin/cr_run", "/bin/sh", "-c", "echo $LD_PRELOAD"});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_TRUE(has(r.out, prefix + "/lib/reprise/libreprise_agent.so")) << r.out;

    use_installed_programs(prefix);
    uid_t uid = ensure_user(kUser);
    cluster_ = std::make_unique<Cluster>();
    Cluster& c = *cluster_;
    ASSERT_TRUE(c.ok()) << c.why();
    std::string work = c.workdir(kUser);
    std::string prog = work + "/counting";
    fs::copy_file(std::string(REPRISE_BUILD_DIR) + "/bin/programs/counting", prog);
    ASSERT_EQ(::chown(prog.c_str(), uid, getpwnam(kUser)->pw_gid), 0);
    ::chmod(prog.c_str(), 0755);

    std::string id = c.submit(kUser, "#!/bin/bash\necho \"preload=$LD_PRELOAD\" >&2\n./counting 40 150\n",
                              {"-N", "inst", "-d", work, "-c", "enabled"});
    ASSERT_FALSE(id.empty());
    std::string out = work + "/inst.o" + seq_of(id), err = work + "/inst.e" + seq_of(id);
    auto lines = [&] { std::string s = slurp(out); return size_t(std::count(s.begin(), s.end(), '\n')); };
    auto why = [&] { return "\n" + c.cmd("", {"qstat", "-f", id}).out + slurp(c.home() + "/mom_logs/mom.log"); };
    ASSERT_TRUE(wait_for([&] { return lines() >= 5; }, 30s)) << why();
    ASSERT_EQ(c.cmd(kUser, {"qhold", id}).code, 0);
    ASSERT_TRUE(c.wait_state(id, "H", 60)) << why();
    EXPECT_FALSE(c.attr(id, "checkpoint_name").empty()) << why();
    ASSERT_EQ(c.cmd(kUser, {"qrls", id}).code, 0);
    ASSERT_TRUE(c.wait_state(id, "C", 90)) << why();
    EXPECT_EQ(c.attr(id, "exit_status"), "0") << why();
    EXPECT_EQ(slurp(out), counts(40)) << why();
    // The job ran under the installed cr_run: its agent is the installed one.
    EXPECT_TRUE(has(slurp(err), "preload=" + prefix + "/lib/reprise/libreprise_agent.so")) << slurp(err);
  }

  std::string root_;
  std::unique_ptr<Cluster> cluster_;
};

TEST_F(Installed, CmakeInstallIntoCleanRootRunsCheckpointableJob) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  root_ = make_root();
  ASSERT_FALSE(root_.empty());
  Result r = run({REPRISE_CMAKE_COMMAND, "--install", REPRISE_BUILD_DIR}, "", {{"DESTDIR", root_}});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::string prefix = root_ + REPRISE_INSTALL_PREFIX;
  expect_layout(prefix);
  run_checkpointable_job(prefix);
}

TEST_F(Installed, DebianPackageUnpackedRunsCheckpointableJob) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  if (::access("/usr/bin/dpkg-deb", X_OK) != 0) GTEST_SKIP() << "dpkg-deb is not installed";
  root_ = make_root();
  ASSERT_FALSE(root_.empty());
  std::string out = root_ + "/pkg";
  Result r = run({REPRISE_CPACK_COMMAND, "-G", "DEB", "--config", std::string(REPRISE_BUILD_DIR) + "/CPackConfig.cmake",
                  "-B", out});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  std::string deb;
  for (const auto& e : fs::directory_iterator(out))
    if (e.path().extension() == ".deb") deb = e.path();
  ASSERT_FALSE(deb.empty()) << r.out;

  Result fields = run({"dpkg-deb", "-f", deb, "Package", "Depends"});
  ASSERT_EQ(fields.code, 0) << fields.err;
  EXPECT_TRUE(has(fields.out, "Package: reprise")) << fields.out;
  EXPECT_TRUE(has(fields.out, "munge")) << fields.out;
  EXPECT_TRUE(has(fields.out, "libsqlite3")) << fields.out;
  Result list = run({"dpkg-deb", "-c", deb});
  ASSERT_EQ(list.code, 0) << list.err;
  for (const char* p : {"./usr/bin/qsub", "./usr/sbin/pbs_server", "./usr/sbin/pbs_mom", "./usr/bin/cr_run",
                        "./usr/lib/reprise/libreprise_agent.so", "./usr/lib/reprise/cr_restorer",
                        "./usr/lib/systemd/system/pbs_server.service", "./usr/share/man/man1/qsub.1",
                        "./etc/default/pbs_server"})
    EXPECT_TRUE(has(list.out, std::string(p) + "\n")) << p << " is not in the package:\n" << list.out;
  Result conf = run({"dpkg-deb", "-I", deb, "conffiles"});
  EXPECT_TRUE(has(conf.out, "/etc/default/pbs_mom")) << conf.out << conf.err;

  std::string tree = root_ + "/tree";
  ASSERT_EQ(run({"dpkg-deb", "-x", deb, tree}).code, 0);
  ::chmod(tree.c_str(), 0755);
  run_checkpointable_job(tree + "/usr");
}

}  // namespace
}  // namespace reprise::test
