// qsub's TORQUE options with real daemons and a real user (issue 13 item 3): walltime with
// days, DOS scripts, -m, -F, -a, -P, -w, -f, -b, -D, --version, -W umask/group_list/x.
#include <gtest/gtest.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <fstream>

#include "harness.h"

using namespace reprise::test;
using namespace std::chrono_literals;

namespace {

const char* kUser = "reprise_u1";
const char* kGroup = "reprise_qg";       // kUser is a member
const char* kOtherGroup = "reprise_qx";  // kUser is not

class QsubOptions : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_user(kUser);
    ASSERT_TRUE(c.ok()) << c.why();
  }
  // A script file in the user's work dir, owned by the user.
  std::string script_file(const std::string& name, const std::string& text) {
    std::string path = c.workdir(kUser) + "/" + name;
    std::ofstream(path) << text;
    passwd* pw = getpwnam(kUser);
    EXPECT_EQ(::chown(path.c_str(), pw->pw_uid, pw->pw_gid), 0);
    return path;
  }
  std::string output_of(const std::string& id, const std::string& name) {
    return slurp(c.workdir(kUser) + "/" + name + ".o" + seq_of(id));
  }
  Cluster c;
};

TEST_F(QsubOptions, WalltimeWithDays) {
  std::string id = c.submit(kUser, "true\n", {"-h", "-l", "walltime=1:02:00:00"});
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(c.attr(id, "Resource_List.walltime"), "26:00:00") << "DD:HH:MM:SS, shown as TORQUE shows it";
  // The days form is enforced as any other.
  std::string slow = c.submit(kUser, "sleep 60\n", {"-l", "walltime=0:00:00:02", "-N", "slowdays"});
  ASSERT_FALSE(slow.empty());
  ASSERT_TRUE(c.wait_state(slow, "C", 20));
  EXPECT_EQ(c.attr(slow, "exit_status"), "271");
  Result bad = c.cmd(kUser, {"qsub", "-l", "walltime=1:2:3:4:5"}, c.workdir(kUser), "true\n");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("walltime"), std::string::npos) << bad.err;
}

TEST_F(QsubOptions, DosScriptsAndMailPoints) {
  std::string dos = script_file("dos.sh", "#!/bin/bash\r\n#PBS -N dos\r\necho hi\r\n");
  Result r = c.cmd(kUser, {"qsub", dos}, c.workdir(kUser));
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.err, "qsub:  script is written in DOS/Windows text format\n");
  EXPECT_EQ(r.out, "");
  // On stdin the CRs at line ends go, as with TORQUE; the script runs.
  std::string id = c.submit(kUser, "#PBS -N crlf\r\necho hi\r\n");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C"));
  EXPECT_EQ(output_of(id, "crlf"), "hi\n");
  for (const char* bad : {"x", "abz", "an"}) {
    Result m = c.cmd(kUser, {"qsub", "-m", bad}, c.workdir(kUser), "true\n");
    EXPECT_NE(m.code, 0) << bad;
    EXPECT_NE(m.err.find("illegal -m value '" + std::string(bad) + "'"), std::string::npos) << m.err;
  }
  Result in_script = c.cmd(kUser, {"qsub"}, c.workdir(kUser), "#PBS -m q\ntrue\n");
  EXPECT_NE(in_script.code, 0);
  EXPECT_NE(in_script.err.find("illegal -m value"), std::string::npos) << in_script.err;
  std::string ok = c.submit(kUser, "true\n", {"-h", "-m", "abef"});
  ASSERT_FALSE(ok.empty());
  EXPECT_EQ(c.attr(ok, "Mail_Points"), "abef");
}

TEST_F(QsubOptions, ScriptArguments) {
  std::string id = c.submit(kUser, "echo \"n=$# 1=$1 2=$2\"\n", {"-N", "args", "-F", "first 'second word'"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C"));
  EXPECT_EQ(c.attr(id, "exit_status"), "0");
  EXPECT_EQ(output_of(id, "args"), "n=2 1=first 2=second word\n");
  EXPECT_EQ(c.attr(id, "job_arguments"), "first 'second word'");
  // An argument that looks like a shell option is still an argument.
  std::string dash = c.submit(kUser, "echo \"1=$1 2=$2\"\n", {"-N", "dash", "-F", "-x -e"});
  ASSERT_FALSE(dash.empty());
  ASSERT_TRUE(c.wait_state(dash, "C"));
  EXPECT_EQ(output_of(dash, "dash"), "1=-x 2=-e\n");
  Result extra = c.cmd(kUser, {"qsub", script_file("a.sh", "true\n"), "x"}, c.workdir(kUser));
  EXPECT_NE(extra.code, 0);
  EXPECT_NE(extra.err.find("-F"), std::string::npos) << extra.err;
}

TEST_F(QsubOptions, DeferredStart) {
  // hhmm.SS a few seconds ahead: state W, then the job runs by itself.
  std::time_t at = std::time(nullptr) + 6;
  std::tm t{};
  localtime_r(&at, &t);
  if (t.tm_hour == 0 && t.tm_min == 0) GTEST_SKIP() << "too close to midnight";
  char when[32];
  std::strftime(when, sizeof when, "%H%M.%S", &t);
  std::string id = c.submit(kUser, "echo ran\n", {"-N", "later", "-a", when});
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(c.attr(id, "job_state"), "W");
  EXPECT_FALSE(c.attr(id, "Execution_Time").empty());
  ASSERT_TRUE(c.wait_state(id, "C", 30));
  EXPECT_EQ(output_of(id, "later"), "ran\n");
  EXPECT_GE(std::time(nullptr), at) << "ran before its -a time";
  // A full date in the past runs at once; a bad one is refused.
  std::string past = c.submit(kUser, "true\n", {"-a", "202001010000"});
  ASSERT_FALSE(past.empty());
  EXPECT_NE(c.attr(past, "job_state"), "W");
  Result bad = c.cmd(kUser, {"qsub", "-a", "25:00"}, c.workdir(kUser), "true\n");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("illegal -a value"), std::string::npos) << bad.err;
  // A held job with a start time ahead goes to W when released.
  std::string held = c.submit(kUser, "true\n", {"-h", "-a", "203001010000"});
  ASSERT_FALSE(held.empty());
  EXPECT_EQ(c.attr(held, "job_state"), "H");
  EXPECT_EQ(c.cmd(kUser, {"qrls", held}).code, 0);
  EXPECT_EQ(c.attr(held, "job_state"), "W");
  Result array = c.cmd(kUser, {"qsub", "-t", "1-2", "-a", "203001010000"}, c.workdir(kUser), "true\n");
  EXPECT_NE(array.code, 0);
  EXPECT_NE(array.err.find("a deferred job array (-a with -t) is not supported"), std::string::npos) << array.err;
  // qalter -a moves the time: to the past, the job runs.
  Result alter = c.cmd(kUser, {"qalter", "-a", "202001010000", held});
  EXPECT_EQ(alter.code, 0) << alter.err;
  EXPECT_TRUE(c.wait_state(held, "C"));
}

TEST_F(QsubOptions, ProxyUserOnlyForManagers) {
  Result denied = c.cmd(kUser, {"qsub", "-P", "nobody"}, c.workdir(kUser), "true\n");
  EXPECT_NE(denied.code, 0);
  EXPECT_NE(denied.err.find("only managers may submit for another user"), std::string::npos) << denied.err;
  // Root (a manager) submits for the user: the job is the user's and runs as the user.
  Result r = c.cmd("", {"qsub", "-P", kUser, "-N", "proxied", "-d", c.workdir(kUser)}, c.workdir(kUser), "id -un\n");
  ASSERT_EQ(r.code, 0) << r.err;
  std::string id = job_id_of(r);
  ASSERT_TRUE(c.wait_state(id, "C"));
  EXPECT_EQ(c.attr(id, "euser"), kUser);
  EXPECT_EQ(c.attr(id, "Job_Owner").rfind(std::string(kUser) + "@", 0), 0u) << c.attr(id, "Job_Owner");
  EXPECT_EQ(output_of(id, "proxied"), std::string(kUser) + "\n");
  Result as_root = c.cmd("", {"qsub", "-P", "root"}, "/", "true\n");
  EXPECT_NE(as_root.code, 0);
  EXPECT_NE(as_root.err.find("Bad UID"), std::string::npos) << as_root.err;
}

TEST_F(QsubOptions, WorkdirFaultTolerantRetryRootdirVersion) {
  std::string id = c.submit(kUser, "pwd\n", {"-N", "wdir", "-w", "/tmp", "-f", "-b", "10"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C"));
  EXPECT_EQ(output_of(id, "wdir"), "/tmp\n");
  EXPECT_EQ(c.attr(id, "fault_tolerant"), "True");
  Result d = c.cmd(kUser, {"qsub", "-D", "/srv/root"}, c.workdir(kUser), "true\n");
  EXPECT_NE(d.code, 0);
  EXPECT_EQ(d.err, "qsub: -D (root directory of the job) is not supported\n");
  Result v = c.cmd(kUser, {"qsub", "--version"});
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.err.rfind("Version: ", 0), 0u) << v.err;
}

TEST_F(QsubOptions, UmaskGroupListAndExtension) {
  run({"groupadd", "-f", kGroup});
  run({"groupadd", "-f", kOtherGroup});
  run({"usermod", "-a", "-G", kGroup, kUser});
  ASSERT_NE(getgrnam(kGroup), nullptr);
  std::string id = c.submit(kUser, "id -gn\ntouch made\nstat -c %a made\n",
                            {"-N", "masked", "-W", "umask=027", "-W", "group_list=" + std::string(kGroup), "-W",
                             "x=NACCESSPOLICY:SINGLEJOB", "-d", c.workdir(kUser)});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C"));
  EXPECT_EQ(output_of(id, "masked"), std::string(kGroup) + "\n640\n");
  EXPECT_EQ(c.attr(id, "egroup"), kGroup);
  EXPECT_EQ(c.attr(id, "x"), "NACCESSPOLICY:SINGLEJOB");
  EXPECT_EQ(c.attr(id, "umask"), "027");
  struct stat st{};
  ASSERT_EQ(::stat((c.workdir(kUser) + "/masked.o" + seq_of(id)).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u) << "output files follow -W umask";
  EXPECT_EQ(st.st_gid, getgrnam(kGroup)->gr_gid);
  Result other = c.cmd(kUser, {"qsub", "-W", "group_list=" + std::string(kOtherGroup)}, c.workdir(kUser), "true\n");
  EXPECT_NE(other.code, 0);
  EXPECT_NE(other.err.find("Bad GID for job execution"), std::string::npos) << other.err;
  Result bad = c.cmd(kUser, {"qsub", "-W", "umask=8"}, c.workdir(kUser), "true\n");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("umask"), std::string::npos) << bad.err;
}

TEST_F(QsubOptions, BeforeDependenciesAndOnCount) {
  // B waits for two before* dependencies (on:2); A1 (beforeok) and A2 (beforeany) name it.
  std::string b = c.submit(kUser, "echo b\n", {"-N", "bjob", "-W", "depend=on:2"});
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(c.attr(b, "job_state"), "H") << "on:2 waits for two jobs to name it";
  std::string a1 = c.submit(kUser, "sleep 1\n", {"-h", "-W", "depend=beforeok:" + b});
  ASSERT_FALSE(a1.empty());
  EXPECT_EQ(c.attr(b, "job_state"), "H");
  std::string a2 = c.submit(kUser, "exit 4\n", {"-W", "depend=beforeany:" + b});
  ASSERT_FALSE(a2.empty());
  EXPECT_EQ(c.attr(b, "depend"), "on:2,afterok:" + a1 + ",afterany:" + a2);
  ASSERT_TRUE(c.wait_state(a2, "C"));
  EXPECT_EQ(c.attr(b, "job_state"), "H") << "still waits for the held A1";
  EXPECT_EQ(c.cmd(kUser, {"qrls", a1}).code, 0);
  ASSERT_TRUE(c.wait_state(b, "C", 30));
  EXPECT_EQ(c.attr(b, "exit_status"), "0");
  // beforenotok: a job that succeeds leaves its dependent never satisfiable: deleted.
  std::string d = c.submit(kUser, "true\n", {"-W", "depend=on:1"});
  std::string e = c.submit(kUser, "true\n", {"-W", "depend=beforenotok:" + d});
  ASSERT_TRUE(c.wait_state(e, "C"));
  ASSERT_TRUE(c.wait_state(d, "C"));
  EXPECT_NE(c.attr(d, "comment").find("can never be satisfied"), std::string::npos) << c.attr(d, "comment");
  // A job that has started cannot be named; syncwith is refused clearly.
  Result started = c.cmd(kUser, {"qsub", "-W", "depend=before:" + a2}, c.workdir(kUser), "true\n");
  EXPECT_NE(started.code, 0);
  EXPECT_NE(started.err.find("names a job that has started"), std::string::npos) << started.err;
  Result sync = c.cmd(kUser, {"qsub", "-W", "depend=syncwith:" + b}, c.workdir(kUser), "true\n");
  EXPECT_NE(sync.code, 0);
  EXPECT_NE(sync.err.find("syncwith is not supported"), std::string::npos) << sync.err;
  Result on_bad = c.cmd(kUser, {"qsub", "-W", "depend=on:x"}, c.workdir(kUser), "true\n");
  EXPECT_NE(on_bad.code, 0);
  // qalter does not register before* (nor start an on:N count): refused.
  std::string held = c.submit(kUser, "true\n", {"-h"});
  Result alter = c.cmd(kUser, {"qalter", "-W", "depend=on:1", held});
  EXPECT_NE(alter.code, 0);
  EXPECT_NE(alter.err.find("is given at qsub"), std::string::npos) << alter.err;
  EXPECT_EQ(c.attr(held, "job_state"), "H");
}

}  // namespace
