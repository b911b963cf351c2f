#include "harness.h"

#include "mom/job_limits.h"

#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace reprise::test {

Result run(const std::vector<std::string>& argv, const std::string& user,
           const std::map<std::string, std::string>& env, const std::string& dir,
           const std::string& stdin_data) {
  // A command may exit before reading the stdin we give it: a failed write, not a SIGPIPE
  // that kills the test.
  static const bool sigpipe_ignored = ::signal(SIGPIPE, SIG_IGN) != SIG_ERR;
  (void)sigpipe_ignored;
  Result r;
  int out[2], err[2], in[2];
  if (pipe(out) || pipe(err) || pipe(in)) return r;
  pid_t pid = fork();
  if (pid == 0) {
    ::signal(SIGPIPE, SIG_DFL);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    if (!user.empty()) {
      passwd* pw = getpwnam(user.c_str());
      if (!pw || initgroups(user.c_str(), pw->pw_gid) || setgid(pw->pw_gid) || setuid(pw->pw_uid)) _exit(126);
      setenv("HOME", pw->pw_dir, 1);
      setenv("USER", user.c_str(), 1);
      setenv("LOGNAME", user.c_str(), 1);
    }
    if (chdir(dir.c_str()) != 0) _exit(126);
    setenv("PWD", dir.c_str(), 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (!stdin_data.empty()) {
    ssize_t ignored = write(in[1], stdin_data.data(), stdin_data.size());
    (void)ignored;
  }
  close(in[1]);
  // Read until the child has exited and its pipes are drained. A daemon it forked may keep
  // the pipes open, so the child's exit (not EOF) ends the wait.
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  char buf[65536];
  int status = 0;
  bool exited = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    int ready = poll(fds, 2, exited ? 0 : 50);
    bool got = false;
    for (int i = 0; i < 2 && ready > 0; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
      } else {
        (i == 0 ? r.out : r.err).append(buf, size_t(n));
        got = true;
      }
    }
    if (fds[0].fd < 0 && fds[1].fd < 0) break;
    if (exited && !got) break;
    if (!exited && waitpid(pid, &status, WNOHANG) == pid) exited = true;
  }
  for (int fd : {fds[0].fd, fds[1].fd})
    if (fd >= 0) close(fd);
  if (!exited) waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

uid_t ensure_user(const std::string& name) {
  if (passwd* pw = getpwnam(name.c_str())) return pw->pw_uid;
  run({"useradd", "-m", "-s", "/bin/bash", name});
  passwd* pw = getpwnam(name.c_str());
  return pw ? pw->pw_uid : 0;
}

bool wait_for(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

int free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

static std::string g_installed_prefix;

void use_installed_programs(const std::string& prefix) { g_installed_prefix = prefix; }

std::string bin(const std::string& name) {
  if (g_installed_prefix.empty()) return std::string(REPRISE_BIN_DIR) + "/" + name;
  std::string user_program = g_installed_prefix + "/bin/" + name;
  if (::access(user_program.c_str(), X_OK) == 0) return user_program;
  return g_installed_prefix + "/sbin/" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string seq_of(const std::string& job_id) { return job_id.substr(0, job_id.find('.')); }

std::string job_id_of(const Result& qsub) {
  if (qsub.code != 0) return "";
  std::string id = qsub.out;
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

std::string full_attr(const std::string& qstat_f, const std::string& name) {
  std::istringstream in(qstat_f);
  std::string line, key = "    " + name + " = ";
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  return "";
}

pid_t start_munged(const std::string& dir, std::string& why) {
  if (run({"mungekey", "-c", "-k", dir + "/munge.key", "-b", "1024"}).code != 0) {
    why = "mungekey failed (is the munge package installed?)";
    return 0;
  }
  chmod((dir + "/munge.key").c_str(), 0600);
  // munged daemonizes; its stdio must not hold our pipes open.
  Result m = run({"sh", "-c", "exec munged -f --socket=" + dir + "/munge.sock --key-file=" + dir +
                                  "/munge.key --pid-file=" + dir + "/munged.pid --log-file=" + dir +
                                  "/munged.log --seed-file=" + dir + "/munged.seed </dev/null >/dev/null 2>&1"});
  pid_t pid = m.code == 0 ? read_pid_file(dir + "/munged.pid") : 0;
  if (!pid) why = "munged did not start";
  return pid;
}

pid_t read_pid_file(const std::string& path) {
  std::ifstream in(path);
  pid_t p = 0;
  in >> p;
  return p;
}

Cluster::Cluster() {
  if (geteuid() != 0) {
    why_ = "integration tests must run as root (pbs_mom starts jobs as their owners)";
    return;
  }
  char tmpl[] = "/tmp/reprise-test.XXXXXX";
  if (!mkdtemp(tmpl)) return;
  tmp_ = tmpl;
  chmod(tmp_.c_str(), 0755);
  home_ = tmp_ + "/home";
  port_ = free_port();
  munged_ = start_munged(tmp_, why_);
  if (!munged_) return;
  chmod(tmp_.c_str(), 0755);
  if (!start_server(true)) {
    why_ = "pbs_server did not start";
    return;
  }
  if (!start_mom()) {
    why_ = "pbs_mom did not start";
    return;
  }
  why_ = "the mom did not register within 10 s";
  ok_ = wait_for([&] { return cmd("", {bin("pbsnodes"), "-a"}).out.find("state = free") != std::string::npos; },
                 std::chrono::seconds(10));
}

Cluster::~Cluster() {
  kill_mom(SIGKILL);
  kill_server(SIGKILL);
  // Jobs still running: their supervisors are in sessions of their own; find them by home.
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream env(entry.path() / "environ");
    std::string all((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
    if (all.find("PBS_NODEFILE=" + home_ + "/") != std::string::npos) kill(std::stoi(name), SIGKILL);
  }
  // And the cgroups of those jobs (the mom removes a job's cgroup when the job ends).
  reprise::mom::remove_stale_cgroups(reprise::mom::node_cgroups(), reprise::mom::cgroup_parent(home_), {});
  if (munged_ > 0) kill(munged_, SIGTERM);
  std::error_code ec;
  if (!tmp_.empty() && !std::getenv("REPRISE_KEEP_TEST_HOME")) std::filesystem::remove_all(tmp_, ec);
}

std::map<std::string, std::string> Cluster::env() const {
  return {{"PBS_HOME", home_}, {"MUNGE_SOCKET", tmp_ + "/munge.sock"}};
}

Result Cluster::cmd(const std::string& user, std::vector<std::string> argv, const std::string& dir,
                    const std::string& stdin_data) {
  if (argv[0].find('/') == std::string::npos) argv[0] = bin(argv[0]);
  return run(argv, user, env(), dir, stdin_data);
}

std::string Cluster::workdir(const std::string& user) {
  std::string d = tmp_ + "/work-" + (user.empty() ? "root" : user);
  mkdir(d.c_str(), 0755);
  if (passwd* pw = getpwnam(user.c_str())) {
    int ignored = chown(d.c_str(), pw->pw_uid, pw->pw_gid);
    (void)ignored;
  }
  return d;
}

std::string Cluster::submit(const std::string& user, const std::string& script, const std::vector<std::string>& opts) {
  std::vector<std::string> argv{"qsub"};
  argv.insert(argv.end(), opts.begin(), opts.end());
  return job_id_of(cmd(user, argv, workdir(user), script));
}

std::string Cluster::attr(const std::string& job, const std::string& name) {
  return full_attr(cmd("", {"qstat", "-f", job}).out, name);
}

bool Cluster::wait_state(const std::string& job, const std::string& state, int seconds) {
  return wait_for([&] { return attr(job, "job_state") == state; }, std::chrono::seconds(seconds));
}

bool Cluster::start_server(bool create) {
  std::vector<std::string> argv{bin("pbs_server"), "-d", home_, "-p", std::to_string(port_), "-L", "127.0.0.1"};
  if (create) {
    argv.push_back("-t");
    argv.push_back("create");
  }
  return run(argv, "", env()).code == 0;
}

bool Cluster::start_mom() { return run({bin("pbs_mom"), "-d", home_}, "", env()).code == 0; }

pid_t Cluster::server_pid() const { return read_pid_file(home_ + "/server_priv/server.lock"); }
pid_t Cluster::mom_pid() const { return read_pid_file(home_ + "/mom_priv/mom.lock"); }

// Gone, or a zombie nobody has reaped yet (daemons are not our children).
bool process_gone(pid_t pid) {
  if (kill(pid, 0) != 0) return true;
  std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close == std::string::npos || (close + 2 < stat.size() && stat[close + 2] == 'Z');
}

void kill_and_wait(pid_t pid, int sig) {
  if (pid <= 0 || kill(pid, sig) != 0) return;
  wait_for([&] { return process_gone(pid); }, std::chrono::seconds(10));
}

void Cluster::kill_server(int sig) { kill_and_wait(server_pid(), sig); }
void Cluster::kill_mom(int sig) { kill_and_wait(mom_pid(), sig); }

SecondMom::SecondMom(Cluster& c, const std::string& node) : home_(c.tmp() + "/home2") {
  if (run({"mkdir", "-p", home_ + "/mom_priv"}).code != 0) return;
  std::ofstream(home_ + "/mom_priv/config") << "$pbsserver 127.0.0.1:" << c.port() << "\n$mom_host " << node << "\n";
  if (c.cmd("", {"qmgr", "-c", "create node " + node + " np=1"}).code != 0) return;
  if (run({bin("pbs_mom"), "-d", home_}, "", c.env()).code != 0) return;
  ok_ = wait_for([&] { return c.cmd("", {"pbsnodes", node}).out.find("state = free") != std::string::npos; },
                 std::chrono::seconds(10));
}

SecondMom::~SecondMom() { run({"sh", "-c", "kill -9 $(cat " + home_ + "/mom_priv/mom.lock) 2>/dev/null"}); }

}  // namespace reprise::test
