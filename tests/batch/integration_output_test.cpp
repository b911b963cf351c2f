// Where a job's output goes (issue 13 item 4): -o/-e naming a directory, output paths the
// owner cannot write (kept in PBS_HOME/undelivered, said in the comment), and jobs no node
// could ever fit (refused at qsub) or that must wait (a comment says why).
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "harness.h"

using namespace reprise::test;
using namespace std::chrono_literals;

namespace {

const char* kUser = "reprise_u1";
const char* kOther = "reprise_u2";

class Output : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_user(kUser);
    ASSERT_TRUE(c.ok()) << c.why();
  }
  // A directory of `user`'s (or root's, for "") under the test's tmp, with `mode`.
  std::string make_dir(const std::string& name, const std::string& user, mode_t mode) {
    std::string d = c.tmp() + "/" + name;
    EXPECT_EQ(mkdir(d.c_str(), mode), 0) << d;
    if (!user.empty()) {
      passwd* pw = getpwnam(user.c_str());
      EXPECT_EQ(chown(d.c_str(), pw->pw_uid, pw->pw_gid), 0);
    }
    chmod(d.c_str(), mode);
    return d;
  }
  std::string node() {
    Result nodes = c.cmd("", {"pbsnodes", "-a"});
    return nodes.out.substr(0, nodes.out.find('\n'));
  }
  Cluster c;
};

uid_t uid_of(const std::string& path) {
  struct stat st{};
  return lstat(path.c_str(), &st) == 0 ? st.st_uid : uid_t(-1);
}

TEST_F(Output, DirectoryGetsTheDefaultFileNames) {
  std::string dir = make_dir("outdir", kUser, 0755);
  std::string id = c.submit(kUser, "echo hello; echo oops >&2\n", {"-N", "dj", "-o", dir, "-e", dir + "/"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C"));
  EXPECT_EQ(c.attr(id, "exit_status"), "0");
  std::string out = dir + "/dj.o" + seq_of(id), err = dir + "/dj.e" + seq_of(id);
  EXPECT_EQ(slurp(out), "hello\n");
  EXPECT_EQ(slurp(err), "oops\n");
  EXPECT_EQ(uid_of(out), getpwnam(kUser)->pw_uid);
  std::string shown = c.attr(id, "Output_Path");
  EXPECT_EQ(shown.substr(shown.find(':') + 1), out) << "qstat shows the file, not the directory";
  shown = c.attr(id, "Error_Path");
  EXPECT_EQ(shown.substr(shown.find(':') + 1), err);
}

TEST_F(Output, DirectoryWithJoinAndInJobScript) {
  std::string dir = make_dir("joined", kUser, 0755);
  std::string id = c.submit(kUser, "#PBS -o " + dir + "\n#PBS -j oe\necho out; echo err >&2\n", {"-N", "jn"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C"));
  std::string joined = slurp(dir + "/jn.o" + seq_of(id));
  EXPECT_NE(joined.find("out\n"), std::string::npos) << joined;
  EXPECT_NE(joined.find("err\n"), std::string::npos) << joined;
}

TEST_F(Output, DirectoryForEachArraySubJob) {
  std::string dir = make_dir("arrdir", kUser, 0755);
  std::string id = c.submit(kUser, "echo index $PBS_ARRAYID\n", {"-N", "ar", "-t", "1-2", "-o", dir});
  ASSERT_FALSE(id.empty());
  std::string seq = seq_of(id);
  seq = seq.substr(0, seq.find('['));
  ASSERT_TRUE(wait_for([&] { return slurp(dir + "/ar.o" + seq + "-2") == "index 2\n"; }, 20s))
      << slurp(dir + "/ar.o" + seq + "-2");
  EXPECT_EQ(slurp(dir + "/ar.o" + seq + "-1"), "index 1\n");
}

TEST_F(Output, DirectoryGivenByQalterGetsTheNameFromTheMom) {
  std::string dir = make_dir("altered", kUser, 0755);
  std::string id = c.submit(kUser, "echo altered\n", {"-h", "-N", "al"});
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(c.cmd(kUser, {"qalter", "-o", dir, id}).code, 0);
  std::string shown = c.attr(id, "Output_Path");
  ASSERT_EQ(shown.substr(shown.find(':') + 1), dir + "/") << "the server does not name the file here";
  ASSERT_EQ(c.cmd(kUser, {"qrls", id}).code, 0);
  ASSERT_TRUE(c.wait_state(id, "C"));
  EXPECT_EQ(slurp(dir + "/al.o" + seq_of(id)), "altered\n");
  EXPECT_EQ(c.attr(id, "comment"), "") << "nothing was undelivered";
}

TEST_F(Output, UnwritableOutputIsKeptInUndeliveredWithAComment) {
  std::string rootdir = make_dir("rootonly", "", 0755);  // the owner cannot write here
  std::string id = c.submit(kUser, "echo hello; echo oops >&2; exit 3\n",
                            {"-N", "ud", "-o", rootdir + "/ud.out", "-e", c.tmp() + "/missing/dir/ud.err"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C"));
  EXPECT_EQ(c.attr(id, "exit_status"), "3") << "the job runs (it used to die with 254)";
  std::string kept_out = c.home() + "/undelivered/" + id + ".OU", kept_err = c.home() + "/undelivered/" + id + ".ER";
  EXPECT_EQ(slurp(kept_out), "hello\n");
  EXPECT_EQ(slurp(kept_err), "oops\n");
  EXPECT_EQ(uid_of(kept_out), getpwnam(kUser)->pw_uid) << "delivered as the owner";
  struct stat st{};
  ASSERT_EQ(stat(kept_out.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "kept output is private";
  EXPECT_NE(access((rootdir + "/ud.out").c_str(), F_OK), 0) << "root never writes on the user's path";
  std::string comment = c.attr(id, "comment");
  EXPECT_NE(comment.find("Output undelivered"), std::string::npos) << comment;
  EXPECT_NE(comment.find(rootdir + "/ud.out"), std::string::npos) << comment;
  EXPECT_NE(comment.find("Permission denied"), std::string::npos) << comment;
  EXPECT_NE(comment.find(kept_out), std::string::npos) << comment;
  EXPECT_NE(comment.find(kept_err), std::string::npos) << comment;
}

TEST_F(Output, UndeliveredCommentShowsWhileTheJobRuns) {
  std::string id = c.submit(kUser, "echo started; sleep 30\n", {"-o", c.tmp() + "/nowhere/x.out", "-j", "oe"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "R"));
  std::string kept = c.home() + "/undelivered/" + id + ".OU";
  EXPECT_TRUE(wait_for([&] { return c.attr(id, "comment").find(kept) != std::string::npos; }, 10s))
      << c.attr(id, "comment");
  EXPECT_TRUE(wait_for([&] { return slurp(kept) == "started\n"; }, 10s)) << slurp(kept);
  // The mom's own lines go there too.
  ASSERT_EQ(c.cmd(kUser, {"qmsg", "a note", id}).code, 0);
  EXPECT_TRUE(wait_for([&] { return slurp(kept) == "started\na note\n"; }, 10s)) << slurp(kept);
  EXPECT_EQ(c.cmd("", {"qdel", id}).code, 0);
  EXPECT_TRUE(c.wait_state(id, "C"));
}

TEST_F(Output, AMomWithItsOwnHomeKeepsUndeliveredOutputThere) {
  SecondMom mom2(c, "node2");
  ASSERT_TRUE(mom2.ok()) << "the second mom did not come up";
  const std::string& home2 = mom2.home();
  struct stat st{};
  ASSERT_EQ(lstat((home2 + "/undelivered").c_str(), &st), 0) << "the mom makes it";
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  EXPECT_EQ(st.st_uid, 0u);
  std::string id = c.submit(kUser, "echo on node2\n", {"-l", "nodes=node2", "-j", "oe", "-o", c.tmp() + "/nowhere/x"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C"));
  EXPECT_EQ(slurp(home2 + "/undelivered/" + id + ".OU"), "on node2\n");
  EXPECT_NE(c.attr(id, "comment").find(home2 + "/undelivered/" + id + ".OU"), std::string::npos) << c.attr(id, "comment");
}

TEST_F(Output, JobRunsEvenWhenUndeliveredIsUnusable) {
  ASSERT_EQ(chmod((c.home() + "/undelivered").c_str(), 0755), 0);  // the owner cannot create there
  std::string id = c.submit(kUser, "echo lost; exit 4\n", {"-j", "oe", "-o", c.tmp() + "/nowhere/x"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C"));
  EXPECT_EQ(c.attr(id, "exit_status"), "4");
  std::string comment = c.attr(id, "comment");
  EXPECT_NE(comment.find("stdout and stderr lost: cannot create " + c.home() + "/undelivered/" + id + ".OU"),
            std::string::npos)
      << comment;
}

TEST_F(Output, PlantedUndeliveredNameIsNeverFollowed) {
  ensure_user(kOther);
  // The next job's id is predictable; another user plants a symlink under its name to a
  // file of the owner's.
  std::string first = c.submit(kUser, "true\n");
  ASSERT_FALSE(first.empty());
  std::string next = std::to_string(std::stol(seq_of(first)) + 1) + first.substr(first.find('.'));
  std::string victim = c.workdir(kUser) + "/precious";
  ASSERT_EQ(c.cmd(kUser, {"/bin/sh", "-c", "echo precious > " + victim}).code, 0);
  std::string planted = c.home() + "/undelivered/" + next + ".OU";
  ASSERT_EQ(c.cmd(kOther, {"/bin/ln", "-s", victim, planted}).code, 0);
  // And a file anyone may write, to read the job's stderr.
  std::string spy = c.home() + "/undelivered/" + next + ".ER";
  ASSERT_EQ(c.cmd(kOther, {"/bin/sh", "-c", "touch " + spy + " && chmod 666 " + spy}).code, 0);
  std::string id = c.submit(kUser, "echo secret; echo secret2 >&2\n",
                            {"-o", c.tmp() + "/nowhere/x.out", "-e", c.tmp() + "/nowhere/x.err"});
  ASSERT_EQ(id, next);
  ASSERT_TRUE(c.wait_state(id, "C"));
  EXPECT_EQ(c.attr(id, "exit_status"), "0");
  EXPECT_EQ(slurp(victim), "precious\n") << "the planted link was followed";
  EXPECT_EQ(slurp(spy), "") << "the planted file was written";
  std::string comment = c.attr(id, "comment");
  for (const auto& [ext, text] : {std::pair{".OU.", "secret\n"}, std::pair{".ER.", "secret2\n"}}) {
    auto at = comment.find(c.home() + "/undelivered/" + id + ext);
    ASSERT_NE(at, std::string::npos) << comment;
    std::string kept = comment.substr(at);
    kept = kept.substr(0, kept.find_first_of(" ;"));
    EXPECT_EQ(slurp(kept), text) << kept;
    EXPECT_EQ(uid_of(kept), getpwnam(kUser)->pw_uid);
  }
}

TEST_F(Output, JobNoNodeCouldFitIsRefusedAtSubmit) {
  std::string n = node();
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set node " + n + " np = 2"}).code, 0);
  const std::string msg =
      "qsub: submit error (Job exceeds queue resource limits MSG=cannot locate feasible nodes (nodes file is empty, "
      "all systems are busy, or no nodes have the requested feature))";
  for (const std::string& spec : std::vector<std::string>{"nodes=5", "nodes=1:ppn=3", "nodes=" + n + ":ppn=3",
                                                        "nodes=1:ppn=2+1:ppn=1"}) {
    Result r = c.cmd(kUser, {"qsub", "-l", spec}, c.workdir(kUser), "true\n");
    EXPECT_EQ(r.code, 15038 % 256) << spec;
    EXPECT_NE(r.err.find(msg), std::string::npos) << spec << ": " << r.err;
    EXPECT_EQ(r.out, "") << spec;
  }
  // More memory than the node has (its mom reports physmem).
  ASSERT_TRUE(wait_for([&] { return c.cmd("", {"pbsnodes", n}).out.find("physmem=") != std::string::npos; }, 10s));
  Result mem = c.cmd(kUser, {"qsub", "-l", "mem=100tb"}, c.workdir(kUser), "true\n");
  EXPECT_EQ(mem.code, 15038 % 256);
  EXPECT_NE(mem.err.find(msg), std::string::npos) << mem.err;
  // What fits the node is accepted, also with the node offline (it may come back).
  EXPECT_FALSE(c.submit(kUser, "true\n", {"-l", "nodes=1:ppn=2"}).empty());
  ASSERT_EQ(c.cmd("", {"pbsnodes", "-o", n}).code, 0);
  EXPECT_FALSE(c.submit(kUser, "true\n", {"-l", "nodes=1:ppn=2,mem=1mb"}).empty());
  // Arrays are refused whole.
  Result arr = c.cmd(kUser, {"qsub", "-t", "1-3", "-l", "nodes=3"}, c.workdir(kUser), "true\n");
  EXPECT_EQ(arr.code, 15038 % 256);
  EXPECT_NE(arr.err.find("cannot locate feasible nodes"), std::string::npos) << arr.err;
}

TEST_F(Output, JobThatMustWaitSaysWhy) {
  std::string n = node();
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set node " + n + " np = 1"}).code, 0);
  std::string busy = c.submit(kUser, "sleep 30\n");
  ASSERT_TRUE(c.wait_state(busy, "R"));
  std::string waiting = c.submit(kUser, "true\n");
  ASSERT_FALSE(waiting.empty());
  const std::string why = "Not Running: Not enough of the right type of nodes are available";
  EXPECT_TRUE(wait_for([&] { return c.attr(waiting, "comment") == why; }, 10s)) << c.attr(waiting, "comment");
  EXPECT_EQ(c.attr(waiting, "job_state"), "Q");
  // Released from a hold into a full cluster: told too.
  std::string released = c.submit(kUser, "true\n", {"-h"});
  ASSERT_FALSE(released.empty());
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(c.attr(released, "comment"), "") << "a held job waits for its release, not for nodes";
  ASSERT_EQ(c.cmd(kUser, {"qrls", released}).code, 0);
  EXPECT_TRUE(wait_for([&] { return c.attr(released, "comment") == why; }, 10s)) << c.attr(released, "comment");
  EXPECT_EQ(c.cmd("", {"qdel", busy}).code, 0);
  ASSERT_TRUE(c.wait_state(waiting, "C"));
  EXPECT_EQ(c.attr(waiting, "comment"), "") << "the reason goes when the job starts";
  ASSERT_TRUE(c.wait_state(released, "C"));
}

TEST_F(Output, WaitingBehindAPartlyBusyNodeSaysWhy) {
  std::string n = node();
  ASSERT_EQ(c.cmd("", {"qmgr", "-c", "set node " + n + " np = 2"}).code, 0);
  std::string busy = c.submit(kUser, "sleep 30\n");
  ASSERT_TRUE(c.wait_state(busy, "R"));
  std::string two = c.submit(kUser, "true\n", {"-l", "nodes=1:ppn=2"});
  ASSERT_FALSE(two.empty());
  EXPECT_TRUE(wait_for([&] {
    return c.attr(two, "comment") == "Not Running: Not enough of the right type of nodes are available";
  }, 10s)) << c.attr(two, "comment");
  EXPECT_EQ(c.cmd("", {"qdel", busy}).code, 0);
}

}  // namespace
