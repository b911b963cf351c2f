// A TORQUE site's setup on real daemons (issue 14): prologue/epilogue proven by marker files,
// a failing prologue requeuing, aborting or holding the job, $prologalarm, $tmpdir,
// $job_output_file_umask, accounting records parsed back and read by tracejob, a TORQUE
// `print server` dump fed to qmgr, route queues (and their retry), $node_check_script taking the
// node down and back, and server_priv/nodes read at every start.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "harness.h"

namespace reprise::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const char* kUser = "reprise_site1";

void spit(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path, std::ios::trunc) << text;
  ::chmod(path.c_str(), mode);
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// key=value pairs of an accounting message.
std::map<std::string, std::string> fields(const std::string& message) {
  std::map<std::string, std::string> f;
  std::istringstream in(message);
  std::string word;
  while (in >> word) {
    auto eq = word.find('=');
    if (eq != std::string::npos) f[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return f;
}

struct Record {
  std::string stamp, id, message;
  char type = 0;
};

class Site : public ::testing::Test {
 protected:
  void SetUp() override {
    uid_ = ensure_user(kUser);
    ASSERT_TRUE(c.ok()) << c.why();
    work_ = c.workdir(kUser);
    markers_ = c.tmp() + "/markers";
    fs::create_directories(markers_);
    ::chmod(markers_.c_str(), 0777);  // the .user scripts write here as the job's owner
  }

  std::string priv(const std::string& name) { return c.home() + "/mom_priv/" + name; }
  void script(const std::string& name, const std::string& body, mode_t mode = 0755) {
    spit(priv(name), "#!/bin/sh\n" + body, mode);
  }
  std::string marker(const std::string& name) { return slurp(markers_ + "/" + name); }

  // Appends lines to mom_priv/config and restarts pbs_mom so that it reads them.
  void mom_config(const std::vector<std::string>& lines) {
    std::string path = priv("config");
    std::string text = slurp(path);
    for (const auto& l : lines) text += l + "\n";
    spit(path, text, 0644);
    c.kill_mom(SIGKILL);
    Result r = run({bin("pbs_mom"), "-d", c.home()}, "", c.env());
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    std::this_thread::sleep_for(1s);
    ASSERT_TRUE(wait_for([&] { return has(c.cmd("", {"pbsnodes", "-a"}).out, "state = free"); }, 20s));
  }

  std::string submit(const std::string& body, std::vector<std::string> opts = {}) {
    opts.insert(opts.begin(), {"-N", "site", "-d", work_});
    return c.submit(kUser, "#!/bin/sh\n" + body, opts);
  }
  std::string out_of(const std::string& id) { return work_ + "/site.o" + seq_of(id); }
  std::string why(const std::string& id) {
    return "\n" + c.cmd("", {"qstat", "-f", id}).out + "--- mom log\n" + slurp(c.home() + "/mom_logs/mom.log");
  }

  std::vector<Record> records() {
    std::vector<Record> out;
    for (const auto& e : fs::directory_iterator(c.home() + "/server_priv/accounting")) {
      std::istringstream in(slurp(e.path()));
      std::string line;
      while (std::getline(in, line)) {
        // MM/DD/YYYY HH:MM:SS;T;ID;MESSAGE
        Record r;
        r.stamp = line.substr(0, 19);
        r.type = line.size() > 20 ? line[20] : 0;
        size_t id_end = line.find(';', 22);
        if (line.size() < 23 || line[19] != ';' || line[21] != ';' || id_end == std::string::npos) {
          ADD_FAILURE() << "not a TORQUE accounting line: " << line;
          continue;
        }
        r.id = line.substr(22, id_end - 22);
        r.message = line.substr(id_end + 1);
        out.push_back(r);
      }
    }
    return out;
  }
  std::vector<Record> records_of(const std::string& id) {
    std::vector<Record> v;
    for (auto& r : records())
      if (r.id == id) v.push_back(r);
    return v;
  }

  Cluster c;
  uid_t uid_ = 0;
  std::string work_, markers_;
};

TEST_F(Site, PrologueAndEpilogueRunWithTorquesArguments) {
  script("prologue", "echo \"$@\" > " + markers_ + "/prologue; id -u >> " + markers_ +
                         "/prologue; echo prologue-says-hello\nexit 0\n");
  script("prologue.user", "echo \"$@\" > " + markers_ + "/prologue.user; id -un >> " + markers_ + "/prologue.user\n");
  script("epilogue", "echo \"$#:$@\" > " + markers_ + "/epilogue; id -u >> " + markers_ + "/epilogue\n");
  script("epilogue.user", "echo \"${10}\" > " + markers_ + "/epilogue.user; id -un >> " + markers_ + "/epilogue.user\n");
  std::string id = submit("echo job-output\nexit 3\n", {"-A", "acct7", "-l", "walltime=00:05:00"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C", 30)) << why(id);
  EXPECT_EQ(c.attr(id, "exit_status"), "3");
  std::string group = getgrgid(getpwnam(kUser)->pw_gid)->gr_name;
  // prologue: job id, user, group, job name, resource limits, queue, account; as root.
  std::string pro = marker("prologue");
  EXPECT_TRUE(has(pro, id + " " + kUser + " " + group + " site ")) << pro;
  EXPECT_TRUE(has(pro, "walltime=00:05:00")) << pro;
  EXPECT_TRUE(has(pro, " batch acct7\n0\n")) << pro;
  std::string pro_user = marker("prologue.user");
  EXPECT_TRUE(has(pro_user, id + " " + kUser)) << pro_user;
  EXPECT_TRUE(has(pro_user, "\n" + std::string(kUser) + "\n")) << "prologue.user runs as the owner: " << pro_user;
  // epilogue: ten arguments, the last the exit status; as root.
  std::string epi = marker("epilogue");
  EXPECT_TRUE(has(epi, "10:" + id + " " + kUser + " " + group + " site ")) << epi;
  EXPECT_TRUE(has(epi, "cput=")) << "resources used: " << epi;
  EXPECT_TRUE(has(epi, " batch acct7 3\n0\n")) << epi;
  EXPECT_EQ(marker("epilogue.user"), "3\n" + std::string(kUser) + "\n");
  // The prologue's output comes first in the job's output file.
  EXPECT_EQ(slurp(out_of(id)), "prologue-says-hello\njob-output\n");
}

TEST_F(Site, FailingPrologueRequeuesTheJob) {
  // Exits 2 the first time (TORQUE: requeue), 0 afterwards.
  script("prologue", "if [ -e " + markers_ + "/once ]; then exit 0; fi\ntouch " + markers_ + "/once\nexit 2\n");
  std::string id = submit("echo ran\n");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C", 40)) << why(id);
  EXPECT_EQ(c.attr(id, "exit_status"), "0") << why(id);
  EXPECT_EQ(c.attr(id, "start_count"), "2") << why(id);
  EXPECT_EQ(slurp(out_of(id)), "ran\n");
  EXPECT_TRUE(has(slurp(c.home() + "/mom_logs/mom.log"), "prologue exited 2; the job is requeued"));
  bool rerun = false;
  for (const auto& r : records_of(id)) rerun = rerun || r.type == 'R';
  EXPECT_TRUE(rerun) << "an R record for the requeue";
}

TEST_F(Site, PrologueExitOneAbortsTheJob) {
  script("prologue", "exit 1\n");
  std::string id = submit("touch " + markers_ + "/job-ran\n");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C", 30)) << why(id);
  EXPECT_EQ(c.attr(id, "exit_status"), "-1");
  EXPECT_TRUE(has(c.attr(id, "comment"), "Job aborted: prologue exited 1")) << why(id);
  EXPECT_FALSE(fs::exists(markers_ + "/job-ran")) << "the job must not run";
  bool aborted = false;
  for (const auto& r : records_of(id)) aborted = aborted || r.type == 'A';
  EXPECT_TRUE(aborted);
}

TEST_F(Site, ProloguesWritableByOthersAreRefusedAndTheJobHeld) {
  script("prologue", "touch " + markers_ + "/prologue-ran\n", 0757);
  ::chmod(priv("prologue").c_str(), 0757);  // past the umask
  std::string id = submit("touch " + markers_ + "/job-ran\n");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "H", 30)) << why(id);
  EXPECT_TRUE(has(c.attr(id, "Hold_Types"), "s")) << why(id);
  EXPECT_TRUE(has(c.attr(id, "comment"), "writable by group or others")) << why(id);
  EXPECT_FALSE(fs::exists(markers_ + "/prologue-ran"));
  EXPECT_FALSE(fs::exists(markers_ + "/job-ran"));
  // A prologue not owned by root is refused too.
  ASSERT_EQ(::chmod(priv("prologue").c_str(), 0755), 0);
  ASSERT_EQ(::chown(priv("prologue").c_str(), uid_, 0), 0);
  std::string id2 = submit("touch " + markers_ + "/job-ran\n");
  ASSERT_TRUE(c.wait_state(id2, "H", 30)) << why(id2);
  EXPECT_TRUE(has(c.attr(id2, "comment"), "not owned by root")) << why(id2);
  EXPECT_FALSE(fs::exists(markers_ + "/prologue-ran"));
}

TEST_F(Site, PrologalarmStopsASlowPrologue) {
  mom_config({"$prologalarm 2"});
  script("prologue", "if [ -e " + markers_ + "/once ]; then exit 0; fi\ntouch " + markers_ + "/once\nsleep 60\n");
  std::string id = submit("echo ran\n");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C", 40)) << why(id);
  EXPECT_EQ(c.attr(id, "exit_status"), "0");
  EXPECT_EQ(c.attr(id, "start_count"), "2") << "the timed-out prologue requeued the job" << why(id);
  EXPECT_TRUE(has(slurp(c.home() + "/mom_logs/mom.log"), "prologue timed out after 2 s"));
}

TEST_F(Site, TmpdirPerJobIsTheOwnersAndRemovedAtTheEnd) {
  std::string scratch = c.tmp() + "/scratch";
  fs::create_directories(scratch);
  ::chmod(scratch.c_str(), 01777);
  mom_config({"$tmpdir " + scratch});
  std::string id = submit("echo \"$TMPDIR\"\nstat -c '%U %a' \"$TMPDIR\"\ntouch \"$TMPDIR/left-behind\"\n");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C", 30)) << why(id);
  EXPECT_EQ(c.attr(id, "exit_status"), "0") << why(id);
  EXPECT_EQ(slurp(out_of(id)), scratch + "/" + id + "\n" + kUser + " 700\n");
  EXPECT_FALSE(fs::exists(scratch + "/" + id)) << "TMPDIR must be removed when the job ends";
  // A name planted in $tmpdir by someone else is never taken over.
  std::string next = std::to_string(std::stol(seq_of(id)) + 1) + id.substr(id.find('.'));
  ASSERT_EQ(::symlink("/etc", (scratch + "/" + next).c_str()), 0);
  std::string id2 = submit("echo should-not-run\n");
  ASSERT_EQ(id2, next);
  ASSERT_TRUE(c.wait_state(id2, "C", 30)) << why(id2);
  EXPECT_TRUE(has(c.attr(id2, "comment"), "TMPDIR")) << why(id2);
  struct stat st{};
  ASSERT_EQ(::stat("/etc", &st), 0);
  EXPECT_EQ(st.st_uid, 0u) << "/etc must not have been given away";
}

TEST_F(Site, JobOutputFileUmask) {
  std::string id = submit("echo a\n");
  ASSERT_TRUE(c.wait_state(id, "C", 30)) << why(id);
  struct stat st{};
  ASSERT_EQ(::stat(out_of(id).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "default";
  mom_config({"$job_output_file_umask 022"});
  std::string id2 = submit("echo a\n");
  ASSERT_TRUE(c.wait_state(id2, "C", 30)) << why(id2);
  ASSERT_EQ(::stat(out_of(id2).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_EQ(st.st_uid, uid_);
}

TEST_F(Site, UnknownMomDirectivesAreWarnings) {
  mom_config({"$ideal_load 7.5", "$no_such_directive 1", "$job_starter /bin/true"});
  std::string log = slurp(c.home() + "/mom_logs/mom.log");
  EXPECT_TRUE(has(log, "unknown directive $no_such_directive ignored")) << log;
  EXPECT_TRUE(has(log, "$ideal_load accepted; it has no effect in Reprise")) << log;
}

TEST_F(Site, AccountingRecordsParseBackAndTracejobReadsThem) {
  std::string id = submit("echo hi\n", {"-l", "walltime=00:02:00"});
  ASSERT_TRUE(c.wait_state(id, "C", 30)) << why(id);
  std::string held = submit("echo never\n", {"-h"});
  ASSERT_TRUE(c.wait_state(held, "H", 10));
  ASSERT_EQ(c.cmd(kUser, {"qdel", held}).code, 0);
  ASSERT_TRUE(c.wait_state(held, "C", 10));

  std::map<char, std::map<std::string, std::string>> by_type;
  for (const auto& r : records_of(id)) by_type[r.type] = fields(r.message);
  ASSERT_TRUE(by_type.count('Q') && by_type.count('S') && by_type.count('E')) << slurp(c.home() + "/server_logs/server.log");
  EXPECT_EQ(by_type['Q']["queue"], "batch");
  auto& s = by_type['S'];
  EXPECT_EQ(s["user"], kUser);
  EXPECT_EQ(s["jobname"], "site");
  EXPECT_EQ(s["queue"], "batch");
  EXPECT_EQ(s["Resource_List.walltime"], "00:02:00");
  EXPECT_FALSE(s["exec_host"].empty());
  EXPECT_FALSE(s["start"].empty());
  EXPECT_TRUE(has(s["owner"], std::string(kUser) + "@"));
  auto& e = by_type['E'];
  EXPECT_EQ(e["Exit_status"], "0");
  EXPECT_FALSE(e["end"].empty());
  EXPECT_FALSE(e["resources_used.walltime"].empty());
  EXPECT_FALSE(e["resources_used.cput"].empty());
  EXPECT_GE(std::stol(e["end"]), std::stol(e["start"]));
  // The deleted job: Q then D with the requestor, no S or E.
  auto deleted = records_of(held);
  ASSERT_EQ(deleted.size(), 2u);
  EXPECT_EQ(deleted[0].type, 'Q');
  EXPECT_EQ(deleted[1].type, 'D');
  EXPECT_TRUE(has(fields(deleted[1].message)["requestor"], std::string(kUser) + "@"));

  Result t = c.cmd("", {"tracejob", seq_of(id)});
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_TRUE(has(t.out, "Job: " + id)) << t.out;
  EXPECT_TRUE(has(t.out, "  A    Q    queue=batch")) << t.out;
  EXPECT_TRUE(has(t.out, "  A    E    ")) << t.out;
  EXPECT_TRUE(has(t.out, "  S    Job;" + id + ";Job Queued at request of")) << t.out;
  EXPECT_TRUE(has(t.out, "  M    job " + id + " ended")) << t.out;
  EXPECT_FALSE(has(t.out, held)) << t.out;
  EXPECT_NE(c.cmd("", {"tracejob", "99999"}).code, 0);
}

TEST_F(Site, TorquePrintServerDumpLoadsAndRouteQueuesRoute) {
  std::string dump = slurp(std::string(REPRISE_SITE_FIXTURES) + "/torque_print_server.qmgr");
  ASSERT_FALSE(dump.empty());
  Result r = c.cmd("", {"qmgr"}, "/", dump);
  // The only refusal: queue batch exists already in a fresh Reprise home.
  std::istringstream errs(r.err);
  std::string line;
  while (std::getline(errs, line)) EXPECT_TRUE(has(line, "Queue batch already exists")) << line;
  Result list = c.cmd("", {"qmgr", "-c", "list server"});
  ASSERT_EQ(list.code, 0) << list.err;
  EXPECT_TRUE(has(list.out, "mom_job_sync = True  (no effect in Reprise)")) << list.out;
  EXPECT_TRUE(has(list.out, "log_events = 511  (no effect in Reprise)")) << list.out;
  EXPECT_TRUE(has(list.out, "\tscheduling = True\n")) << list.out;
  EXPECT_TRUE(has(list.out, "\tkill_delay = 5\n")) << list.out;
  // next_job_number carries the site's job numbering on.
  std::string short_job = submit("echo s\n", {"-q", "route", "-l", "walltime=00:05:00"});
  ASSERT_FALSE(short_job.empty());
  EXPECT_EQ(seq_of(short_job), "4711");
  EXPECT_EQ(c.attr(short_job, "queue"), "short");
  std::string long_job = submit("echo l\n", {"-q", "route", "-l", "walltime=02:00:00"});
  EXPECT_EQ(c.attr(long_job, "queue"), "long");
  Result refused = c.cmd(kUser, {"qsub", "-q", "route", "-l", "walltime=100:00:00"}, work_, "echo x\n");
  EXPECT_NE(refused.code, 0);
  EXPECT_TRUE(has(refused.err, "Route queue route found no destination")) << refused.err;
  ASSERT_TRUE(c.wait_state(short_job, "C", 30)) << why(short_job);
  EXPECT_EQ(slurp(out_of(short_job)), "s\n");
}

// $node_check_script: a script that says ERROR while a marker file exists.
TEST_F(Site, NodeCheckScriptTakesTheNodeDownAndBringsItBack) {
  std::string sick = markers_ + "/sick";
  std::string check = c.tmp() + "/healthcheck.sh";
  spit(check, "#!/bin/sh\necho checking disks\n[ -e " + sick + " ] && echo 'ERROR /scratch is gone, call admin'\nexit 0\n",
       0755);
  mom_config({"$status_update_time 1", "$node_check_script " + check, "$node_check_interval 1"});
  Result healthy = c.cmd("", {"pbsnodes", "-a"});
  EXPECT_FALSE(has(healthy.out, "message=")) << healthy.out;
  spit(sick, "", 0644);
  ASSERT_TRUE(wait_for([&] { return has(c.cmd("", {"pbsnodes", "-a"}).out, "state = down"); }, 20s))
      << c.cmd("", {"pbsnodes", "-a"}).out;
  Result down = c.cmd("", {"pbsnodes", "-a"});
  EXPECT_TRUE(has(down.out, "message=ERROR /scratch is gone  call admin")) << down.out;
  EXPECT_TRUE(has(c.cmd("", {"pbsnodes", "-l"}).out, "down")) << c.cmd("", {"pbsnodes", "-l"}).out;
  std::string id = submit("echo ran\n");
  ASSERT_FALSE(id.empty());
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(c.attr(id, "job_state"), "Q") << "nothing starts on a node whose health check fails" << why(id);
  ::unlink(sick.c_str());
  ASSERT_TRUE(wait_for([&] { return has(c.cmd("", {"pbsnodes", "-a"}).out, "state = free"); }, 20s) ||
              c.attr(id, "job_state") != "Q")
      << c.cmd("", {"pbsnodes", "-a"}).out;
  ASSERT_TRUE(c.wait_state(id, "C", 30)) << why(id);
  EXPECT_EQ(slurp(out_of(id)), "ran\n");
  EXPECT_FALSE(has(c.cmd("", {"pbsnodes", "-a"}).out, "message=")) << c.cmd("", {"pbsnodes", "-a"}).out;
}

TEST_F(Site, NodeCheckAtJobStartRequeuesTheJobAndARefusedScriptIsAnError) {
  std::string sick = markers_ + "/sick";
  std::string check = c.tmp() + "/healthcheck.sh";
  spit(check, "#!/bin/sh\n[ -e " + sick + " ] && echo 'ERROR gpu lost'\nexit 0\n", 0755);
  // Periodic runs far apart: only the one at job start can see the marker.
  mom_config({"$status_update_time 1", "$node_check_script " + check, "$node_check_interval 1000,jobstart"});
  spit(sick, "", 0644);
  std::string id = submit("echo never\n");
  ASSERT_TRUE(wait_for([&] { return has(c.attr(id, "comment"), "node health check failed at job start"); }, 20s))
      << why(id);
  EXPECT_TRUE(has(c.attr(id, "comment"), "ERROR gpu lost")) << why(id);
  EXPECT_EQ(c.attr(id, "job_state"), "Q") << why(id);
  EXPECT_TRUE(has(c.cmd("", {"pbsnodes", "-a"}).out, "state = down"));
  EXPECT_FALSE(fs::exists(out_of(id)));
  ASSERT_EQ(c.cmd("", {"qdel", id}).code, 0);
  // A script others may write is never run as root: the node is down with the reason.
  ::unlink(sick.c_str());
  ::chmod(check.c_str(), 0777);
  c.kill_mom(SIGKILL);
  ASSERT_EQ(run({bin("pbs_mom"), "-d", c.home()}, "", c.env()).code, 0);
  ASSERT_TRUE(wait_for([&] { return has(c.cmd("", {"pbsnodes", "-a"}).out, "writable by group or others"); }, 20s))
      << c.cmd("", {"pbsnodes", "-a"}).out;
  EXPECT_TRUE(has(c.cmd("", {"pbsnodes", "-a"}).out, "state = down"));
}

// Route queues keep a job no destination takes yet and retry (route_retry_time).
class SiteRoute : public Site {
 protected:
  void SetUp() override {
    Site::SetUp();
    if (HasFatalFailure()) return;
    qmgr("create queue dest queue_type = Execution, enabled = False, started = True");
    qmgr("create queue rq queue_type = Route, route_destinations = dest, route_retry_time = 1, enabled = True, "
         "started = True");
  }
  void qmgr(const std::string& command) {
    Result r = c.cmd("", {"qmgr", "-c", command});
    ASSERT_EQ(r.code, 0) << command << ": " << r.err;
  }
};

TEST_F(SiteRoute, AJobWaitsInTheRouteQueueUntilADestinationIsEnabled) {
  Result list = c.cmd("", {"qmgr", "-c", "list queue rq"});
  EXPECT_TRUE(has(list.out, "route_retry_time = 1\n")) << list.out << list.err;  // acted on: no "(no effect" mark
  std::string id = submit("echo routed\n", {"-q", "rq"});
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(c.attr(id, "queue"), "rq");
  EXPECT_EQ(c.attr(id, "job_state"), "Q");
  EXPECT_TRUE(has(c.attr(id, "comment"), "dest is not enabled")) << why(id);
  std::this_thread::sleep_for(2s);  // retried, still refused
  EXPECT_EQ(c.attr(id, "queue"), "rq");
  EXPECT_EQ(c.cmd("", {"qrun", id}).code == 0, false) << "a job in a route queue runs once routed";
  qmgr("set queue dest enabled = True");
  ASSERT_TRUE(wait_for([&] { return c.attr(id, "queue") == "dest"; }, 20s)) << why(id);
  ASSERT_TRUE(c.wait_state(id, "C", 30)) << why(id);
  EXPECT_EQ(slurp(out_of(id)), "routed\n");
}

TEST_F(SiteRoute, AFullDestinationTakesTheJobWhenRoomIsMade) {
  qmgr("set queue dest enabled = True, started = False, max_queuable = 1");
  std::string first = submit("echo 1\n", {"-q", "rq"});
  EXPECT_EQ(c.attr(first, "queue"), "dest");
  std::string second = submit("echo 2\n", {"-q", "rq"});
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(c.attr(second, "queue"), "rq");
  EXPECT_TRUE(has(c.attr(second, "comment"), "max_queuable = 1")) << why(second);
  ASSERT_EQ(c.cmd("", {"qdel", first}).code, 0);
  ASSERT_TRUE(wait_for([&] { return c.attr(second, "queue") == "dest"; }, 20s)) << why(second);
  // A held job stays in the route queue (route_held_jobs = False) until released.
  qmgr("set queue dest max_queuable = 5");
  std::string held = submit("echo h\n", {"-q", "rq", "-h"});
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(c.attr(held, "queue"), "rq") << why(held);
  ASSERT_EQ(c.cmd(kUser, {"qrls", held}).code, 0);
  ASSERT_TRUE(wait_for([&] { return c.attr(held, "queue") == "dest"; }, 20s)) << why(held);
}

TEST_F(SiteRoute, RouteLifetimeAbortsTheJobWithMailAndAccounting) {
  std::string mail_log = c.tmp() + "/mail.log", sendmail = c.tmp() + "/fake_sendmail";
  spit(sendmail, "#!/bin/sh\n{ echo \"ARGS: $*\"; cat; } >> " + mail_log + "\n", 0755);
  qmgr("set server sendmail_path = " + sendmail);
  qmgr("set queue rq route_lifetime = 2");
  std::string id = submit("echo never\n", {"-q", "rq"});
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(c.wait_state(id, "C", 30)) << why(id);
  EXPECT_TRUE(has(c.attr(id, "comment"), "Route queue lifetime exceeded")) << why(id);
  bool aborted = false;
  for (const Record& r : records_of(id)) aborted = aborted || r.type == 'A';
  EXPECT_TRUE(aborted) << "an accounting A record";
  ASSERT_TRUE(wait_for([&] { return has(slurp(mail_log), "Route queue lifetime exceeded"); }, 20s)) << slurp(mail_log);
  EXPECT_TRUE(has(slurp(mail_log), "Aborted by PBS Server")) << slurp(mail_log);
  EXPECT_FALSE(fs::exists(out_of(id)));
}

TEST_F(Site, NodesFileIsReadAtEveryStart) {
  std::string nodes = c.home() + "/server_priv/nodes";
  std::string text = slurp(nodes);
  spit(nodes, text + "extra01 np=3 bigmem\n", 0644);
  c.kill_server(SIGTERM);
  ASSERT_TRUE(c.start_server(false));
  Result r = c.cmd("", {"pbsnodes", "extra01"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(has(r.out, "np = 3")) << r.out;
  EXPECT_TRUE(has(r.out, "bigmem")) << r.out;
  // An edit of a known node's np is taken at the next start.
  spit(nodes, text + "extra01 np=5\n", 0644);
  c.kill_server(SIGTERM);
  ASSERT_TRUE(c.start_server(false));
  EXPECT_TRUE(has(c.cmd("", {"pbsnodes", "extra01"}).out, "np = 5"));
}

}  // namespace
}  // namespace reprise::test
