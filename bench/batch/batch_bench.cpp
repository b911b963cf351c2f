// Batch-system benchmark: real daemons in a temporary home (tests/batch harness), real jobs.
// Measures qsub latency, submissions per second, end-to-end completions per second for N
// trivial jobs, qstat latency with M jobs queued, and the server's RSS.
// Usage (root): batch_bench [--jobs N] [--queued M] [--np SLOTS] [--qstat-runs R] [--qstat-only]
//        batch_bench --array N [--qstat-runs R]: qsub -t 1-N, qstat and qstat -t with N sub-jobs
// --qstat-only runs only the last part (M queued jobs: qstat timings, server RSS), R runs each.
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "harness.h"
#include "protocol_submit.h"

using namespace reprise;
using namespace reprise::test;
using Clock = std::chrono::steady_clock;

namespace {

const char* kUser = "reprise_bench";

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// Runs `body` in a child process that has become kUser (jobs may not belong to root).
// The child writes one double (a result) to a pipe.
double as_user(Cluster& c, const std::function<double()>& body) {
  std::string dir = c.workdir(kUser);  // created as root, before dropping privileges
  int p[2];
  if (pipe(p) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    passwd* pw = getpwnam(kUser);
    if (!pw || initgroups(kUser, pw->pw_gid) || setgid(pw->pw_gid) || setuid(pw->pw_uid)) _exit(1);
    for (auto& [k, v] : c.env()) setenv(k.c_str(), v.c_str(), 1);
    if (chdir(dir.c_str()) != 0) _exit(1);
    double r = body();
    ssize_t ignored = write(p[1], &r, sizeof r);
    (void)ignored;
    _exit(0);
  }
  close(p[1]);
  double r = -1;
  ssize_t n = read(p[0], &r, sizeof r);
  close(p[0]);
  waitpid(pid, nullptr, 0);
  return n == sizeof r ? r : -1;
}

// Submits `count` jobs over one connection per worker, `workers` in parallel; returns seconds.
// Jobs go round-robin to `queues` (empty: the default queue).
double submit_over_protocol(Cluster& c, int count, int workers, const std::string& script, bool hold,
                            const std::vector<std::string>& queues = {}) {
  return as_user(c, [&] {
    auto start = Clock::now();
    submit_over_connections(count, workers, script, [&](int i, auto& a) {
      a["Job_Name"] = "bench";
      if (!queues.empty()) a["queue"] = queues[size_t(i) % queues.size()];
      a["Join_Path"] = "oe";
      a["Output_Path"] = "/dev/null";
      if (hold) a["Hold_Types"] = "u";
      a["Variable_List"] = "PBS_O_WORKDIR=/tmp";
    });
    return std::chrono::duration<double>(Clock::now() - start).count();
  });
}

int count_state(Cluster& c, char state) {
  Result r = c.cmd("", {"qstat", "-B", "-f"});
  std::string key = std::string(state == 'C' ? "Complete:" : state == 'Q' ? "Queued:" : "Running:");
  auto at = r.out.find(key);
  return at == std::string::npos ? -1 : std::atoi(r.out.c_str() + at + key.size());
}

// CPU seconds (user + system) a process has used so far.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i)
    if (i == 14 || i == 15) ticks += std::stod(f);
  return ticks / double(sysconf(_SC_CLK_TCK));
}

}  // namespace

int main(int argc, char** argv) {
  int jobs = 1000, queued = 10000, np = 32, qstat_runs = 10;
  bool qstat_only = false;
  int array = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--qstat-only") {
      qstat_only = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "batch_bench: %s needs a value\n", a.c_str());
      return 2;
    }
    if (a == "--jobs") jobs = std::atoi(argv[++i]);
    else if (a == "--queued") queued = std::atoi(argv[++i]);
    else if (a == "--np") np = std::atoi(argv[++i]);
    else if (a == "--array") array = std::atoi(argv[++i]);
    else if (a == "--qstat-runs") qstat_runs = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "batch_bench: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "batch_bench: run as root (it starts pbs_mom)\n");
    return 1;
  }
  ensure_user(kUser);
  std::printf("# Reprise batch benchmark: %u cores, jobs=%d queued=%d np=%d qstat-runs=%d%s\n",
              std::thread::hardware_concurrency(), jobs, queued, np, qstat_runs, qstat_only ? " (qstat only)" : "");

  if (array > 0) {
    // Job arrays: one `qsub -t 1-N` (one request; the sub-job rows go into one transaction),
    // then qstat (one summary line) and qstat -t (N lines) with the N sub-jobs queued.
    Cluster c;
    if (!c.ok()) return 1;
    c.cmd("", {"qmgr", "-c", "set server scheduling = false"});
    c.cmd("", {"qmgr", "-c", "set server max_job_array_size = " + std::to_string(array)});
    std::printf("server RSS idle: %ld KiB\n", rss_kb(c.server_pid()));
    std::string range = "1-" + std::to_string(array);
    auto t = Clock::now();
    Result sub = c.cmd(kUser, {"qsub", "-t", range}, c.workdir(kUser), "#!/bin/sh\n#PBS -l walltime=1:00:00\nsleep 1\n");
    double submit_ms = ms_since(t);
    if (sub.code != 0) {
      std::fprintf(stderr, "qsub -t failed: %s\n", sub.err.c_str());
      return 1;
    }
    std::printf("qsub -t %s: %.1f ms (%s)\n", range.c_str(), submit_ms, job_id_of(sub).c_str());
    auto timed = [&](const std::vector<std::string>& args, long* lines) {
      auto t0 = Clock::now();
      Result r = c.cmd(kUser, args);
      double ms = ms_since(t0);
      if (r.code != 0) std::fprintf(stderr, "%s failed: %s\n", args[0].c_str(), r.err.c_str());
      if (lines) *lines = long(std::count(r.out.begin(), r.out.end(), '\n'));
      return ms;
    };
    std::vector<double> summary, expanded, one;
    long summary_lines = 0, expanded_lines = 0;
    for (int i = 0; i < qstat_runs; ++i) {
      summary.push_back(timed({"qstat"}, &summary_lines));
      expanded.push_back(timed({"qstat", "-t"}, &expanded_lines));
      one.push_back(timed({"qstat", "-f", job_id_of(sub).substr(0, job_id_of(sub).find('[')) + "[" + std::to_string(array / 2) + "]"}, nullptr));
    }
    std::printf("qstat (one summary line; %ld lines), %d runs: median %.1f ms, p95 %.1f ms\n", summary_lines,
                qstat_runs, percentile(summary, 0.5), percentile(summary, 0.95));
    std::printf("qstat -t (%ld lines), %d runs: median %.1f ms, p95 %.1f ms\n", expanded_lines, qstat_runs,
                percentile(expanded, 0.5), percentile(expanded, 0.95));
    std::printf("qstat -f ONE_SUBJOB: median %.2f ms\n", percentile(one, 0.5));
    std::printf("server RSS with %d sub-jobs: %ld KiB\n", array, rss_kb(c.server_pid()));
    // The scheduler with all of them queued and slots free: each pass tries one placement
    // per array (the rest of the array waits), not one per sub-job.
    t = Clock::now();
    c.cmd("", {"qmgr", "-c", "set server scheduling = true"});
    double sched_ms = ms_since(t);
    std::printf("qmgr set scheduling = true (first pass over %d queued sub-jobs): %.1f ms\n", array, sched_ms);
    return 0;
  }

  if (!qstat_only) {
    Cluster c;
    if (!c.ok()) {
      std::fprintf(stderr, "batch_bench: cluster did not start\n");
      return 1;
    }
    Result nodes = c.cmd("", {"pbsnodes", "-a"});
    std::string node = nodes.out.substr(0, nodes.out.find('\n'));
    c.cmd("", {"qmgr", "-c", "set node " + node + " np = " + std::to_string(np)});
    c.cmd("", {"qmgr", "-c", "set server keep_completed = 3600"});
    std::printf("server RSS idle: %ld KiB\n", rss_kb(c.server_pid()));

    // 1. qsub latency: the whole command (process start, connect, commit, reply), sequential,
    // with scheduling off so only submission is measured.
    c.cmd("", {"qmgr", "-c", "set server scheduling = false"});
    std::vector<double> lat;
    for (int i = 0; i < 200; ++i) {
      auto t = Clock::now();
      Result r = c.cmd(kUser, {"qsub", "-h", "-o", "/dev/null", "-j", "oe"}, c.workdir(kUser), "true\n");
      lat.push_back(ms_since(t));
      if (r.code != 0) {
        std::fprintf(stderr, "qsub failed: %s\n", r.err.c_str());
        return 1;
      }
    }
    std::printf("qsub command latency (200 sequential): median %.2f ms, p95 %.2f ms\n", percentile(lat, 0.5),
                percentile(lat, 0.95));
    // What the harness itself costs to start a program as the user, for comparison.
    std::vector<double> base;
    for (int i = 0; i < 100; ++i) {
      auto t0 = Clock::now();
      c.cmd(kUser, {"/bin/true"});
      base.push_back(ms_since(t0));
    }
    std::printf("  (starting /bin/true the same way: median %.2f ms)\n", percentile(base, 0.5));
    // One request on an open connection: the server's own latency including the commit.
    double one = as_user(c, [&] {
      client::Connection conn;
      std::string error;
      if (!conn.open(error)) return -1.0;
      std::vector<double> v;
      for (int i = 0; i < 200; ++i) {
        wire::Request req;
        req.set_op("submit");
        (*req.mutable_attrs())["Hold_Types"] = "u";
        (*req.mutable_attrs())["Output_Path"] = "/dev/null";
        (*req.mutable_attrs())["Join_Path"] = "oe";
        req.set_script("true\n");
        wire::Response resp;
        auto t0 = Clock::now();
        if (!conn.call(req, resp, error) || resp.code() != 0) return -1.0;
        v.push_back(ms_since(t0));
      }
      return percentile(v, 0.5);
    });
    std::printf("  submit request on an open connection (commit included): median %.3f ms\n", one);

    // 2. Submissions per second: qsub commands from 4 parallel shells, then the protocol.
    auto t = Clock::now();
    Result par = c.cmd(kUser, {"/bin/sh", "-c",
                               "for w in 1 2 3 4; do (for i in $(seq 250); do echo true | " + bin("qsub") +
                                   " -h -o /dev/null -j oe >/dev/null || exit 1; done) & done; wait"},
                       c.workdir(kUser));
    double secs = ms_since(t) / 1000;
    std::printf("qsub commands, 4 parallel submitters, 1000 jobs: %.0f submissions/s\n", 1000 / secs);
    double proto = submit_over_protocol(c, 5000, 4, "true\n", true);
    std::printf("protocol submissions, 4 connections, 5000 jobs: %.0f submissions/s\n", 5000 / proto);
  }

  if (!qstat_only) {
    // 3. End to end: N trivial jobs submitted at once, until the last is complete.
    Cluster c;
    if (!c.ok()) return 1;
    Result nodes = c.cmd("", {"pbsnodes", "-a"});
    std::string node = nodes.out.substr(0, nodes.out.find('\n'));
    c.cmd("", {"qmgr", "-c", "set node " + node + " np = " + std::to_string(np)});
    c.cmd("", {"qmgr", "-c", "set server keep_completed = 3600"});
    auto t = Clock::now();
    double sub = submit_over_protocol(c, jobs, 2, "true\n", false);
    bool done = wait_for([&] { return count_state(c, 'C') >= jobs; }, std::chrono::seconds(300));
    double secs = ms_since(t) / 1000;
    std::printf("end to end, %d jobs of `true` (np=%d): %s in %.2f s = %.0f jobs/s (submission took %.2f s)\n", jobs,
                np, done ? "all completed" : "NOT all completed", secs, jobs / secs, sub);
    std::printf("  CPU used meanwhile: pbs_server %.2f s, pbs_mom %.2f s\n", cpu_seconds(c.server_pid()),
                cpu_seconds(c.mom_pid()));
  }

  {
    // 4. qstat with many queued jobs, and the server's RSS then. The jobs are spread over four
    // queues and the server knows four nodes (three without a mom), as on a real site.
    Cluster c;
    if (!c.ok()) return 1;
    c.cmd("", {"qmgr", "-c", "set server scheduling = false"});
    for (const char* q : {"short", "long", "debug"}) {
      c.cmd("", {"qmgr", "-c", std::string("create queue ") + q});
      c.cmd("", {"qmgr", "-c", std::string("set queue ") + q + " queue_type = Execution, enabled = true, started = true"});
    }
    for (const char* n : {"node01", "node02", "node03"})
      c.cmd("", {"qmgr", "-c", std::string("create node ") + n + " np = 16"});
    std::printf("server RSS idle: %ld KiB\n", rss_kb(c.server_pid()));
    double sub = submit_over_protocol(c, queued, 4, "#!/bin/sh\n#PBS -l walltime=1:00:00\nsleep 1\n", false,
                                      {"batch", "short", "long", "debug"});
    std::printf("queued %d jobs in %.2f s (%.0f/s)\n", queued, sub, queued / sub);
    auto timed = [&](const std::vector<std::string>& argv, long* lines) {
      auto t = Clock::now();
      Result r = c.cmd(kUser, argv);
      double ms = ms_since(t);
      if (r.code != 0) std::fprintf(stderr, "%s failed: %s\n", argv[0].c_str(), r.err.c_str());
      if (lines) *lines = long(std::count(r.out.begin(), r.out.end(), '\n'));
      return ms;
    };
    std::vector<double> all, mine, one, json, base;
    long lines = 0, user_lines = 0;
    for (int i = 0; i < qstat_runs; ++i) {
      all.push_back(timed({"qstat"}, &lines));
      mine.push_back(timed({"qstat", "-u", kUser}, &user_lines));
      one.push_back(timed({"qstat", "-f", std::to_string(queued / 2)}, nullptr));
      base.push_back(timed({"/bin/true"}, nullptr));
    }
    for (int i = 0; i < (qstat_only ? 3 : qstat_runs); ++i) json.push_back(timed({"qstat", "-f", "-F", "json"}, nullptr));
    std::printf("qstat lists %ld lines, qstat -u %ld lines\n", lines, user_lines);
    std::printf("qstat (all %d jobs, table), %d runs: median %.1f ms, p95 %.1f ms, min %.1f ms\n", queued, qstat_runs,
                percentile(all, 0.5), percentile(all, 0.95), percentile(all, 0));
    std::printf("qstat -u %s (all %d jobs), %d runs: median %.1f ms, p95 %.1f ms\n", kUser, queued, qstat_runs,
                percentile(mine, 0.5), percentile(mine, 0.95));
    std::printf("qstat -f ONE_JOB with %d queued: median %.2f ms, p95 %.2f ms\n", queued, percentile(one, 0.5),
                percentile(one, 0.95));
    std::printf("  (starting /bin/true the same way: median %.2f ms)\n", percentile(base, 0.5));
    std::printf("qstat -f -F json (all %d jobs), %zu runs: median %.1f ms\n", queued, json.size(),
                percentile(json, 0.5));
    std::printf("server RSS with %d jobs: %ld KiB\n", queued, rss_kb(c.server_pid()));
  }
  return 0;
}
