#include "netns_cluster.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace reprise::test {

namespace {

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return bool(out);
}

}  // namespace

NetCluster::NetCluster(int nodes, const std::string& mom_config, const std::vector<std::string>& qmgr)
    : nodes_(nodes) {
  if (geteuid() != 0) {
    why_ = "multi-node tests must run as root (network namespaces, jobs run as their owners)";
    return;
  }
  tag_ = std::to_string(getpid() % 100000);
  // Namespaces left by an earlier run of a test with the same pid.
  for (const std::string& h : std::vector<std::string>{"w", "s", "n1", "n2", "n3", "n4"})
    run({"ip", "netns", "del", ns(h)});
  if (run({"ip", "netns", "add", ns("w")}).code != 0) {
    no_netns_ = true;
    why_ = "cannot create a network namespace here (ip netns add failed)";
    return;
  }
  if (!ip({"-n", ns("w"), "link", "add", "br0", "type", "bridge"}) || !ip({"-n", ns("w"), "link", "set", "br0", "up"})) {
    no_netns_ = true;
    why_ = "cannot create a bridge inside a network namespace";
    return;
  }
  if (!link_host("s", server_address())) return;
  for (int i = 1; i <= nodes_; ++i)
    if (!link_host(node(i), "10.213.0.1" + std::to_string(i))) return;

  char tmpl[] = "/tmp/reprise-multinode.XXXXXX";
  if (!mkdtemp(tmpl)) return;
  tmp_ = tmpl;
  chmod(tmp_.c_str(), 0755);
  home_ = tmp_ + "/server";
  munged_ = start_munged(tmp_, why_);
  if (!munged_) return;

  // The server's nodes file names every node; each mom has a PBS_HOME of its own.
  std::filesystem::create_directories(home_ + "/server_priv");
  std::string nodes_file;
  for (int i = 1; i <= nodes_; ++i) nodes_file += node(i) + " np=1\n";
  write_text(home_ + "/server_priv/nodes", nodes_file);
  if (!start_server(true)) {
    why_ = "pbs_server did not start in its namespace";
    return;
  }
  for (const std::string& q : qmgr)
    if (cmd("", {"qmgr", "-c", q}).code != 0) {
      why_ = "qmgr -c '" + q + "' failed";
      return;
    }
  for (int i = 1; i <= nodes_; ++i) {
    std::filesystem::create_directories(mom_home(i) + "/mom_priv");
    write_text(mom_home(i) + "/mom_priv/config", "$pbsserver " + server_address() + ":" +
                                                     std::to_string(server_port()) + "\n$mom_host " + node(i) +
                                                     "\n" + mom_config);
    if (!start_mom(i)) {
      why_ = "pbs_mom of " + node(i) + " did not start";
      return;
    }
  }
  why_ = "the moms did not all register within 15 s";
  ok_ = wait_for([&] {
          for (int i = 1; i <= nodes_; ++i)
            if (node_state(i) != "free") return false;
          return true;
        },
        std::chrono::seconds(15));
  if (ok_) why_.clear();
}

NetCluster::~NetCluster() {
  for (int i = 1; i <= nodes_; ++i)
    for (pid_t p : processes(i)) kill(p, SIGKILL);
  kill_server(SIGKILL);
  if (munged_ > 0) kill(munged_, SIGTERM);
  for (const std::string& h : std::vector<std::string>{"w", "s", "n1", "n2", "n3", "n4"})
    run({"ip", "netns", "del", ns(h)});
  std::error_code ec;
  if (!tmp_.empty() && !std::getenv("REPRISE_KEEP_TEST_HOME")) std::filesystem::remove_all(tmp_, ec);
}

bool NetCluster::ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"ip"};
  argv.insert(argv.end(), args.begin(), args.end());
  Result r = run(argv);
  if (r.code != 0) why_ = "ip " + args.back() + " failed: " + r.err;
  return r.code == 0;
}

bool NetCluster::link_host(const std::string& host, const std::string& address) {
  std::string w = ns("w"), h = ns(host);
  if (run({"ip", "netns", "list"}).out.find(h + " ") == std::string::npos &&
      run({"ip", "netns", "list"}).out.find(h + "\n") == std::string::npos && !ip({"netns", "add", h}))
    return false;
  return ip({"-n", w, "link", "add", "v" + host, "type", "veth", "peer", "name", "eth0", "netns", h}) &&
         ip({"-n", w, "link", "set", "v" + host, "master", "br0", "up"}) &&
         ip({"-n", h, "addr", "add", address + "/24", "dev", "eth0"}) && ip({"-n", h, "link", "set", "eth0", "up"}) &&
         ip({"-n", h, "link", "set", "lo", "up"});
}

bool NetCluster::cut(int i) { return ip({"-n", ns("w"), "link", "del", "v" + node(i)}); }
bool NetCluster::reconnect(int i) { return link_host(node(i), "10.213.0.1" + std::to_string(i)); }

std::string NetCluster::mom_home(int i) const { return tmp_ + "/mom-" + node(i); }
std::string NetCluster::server_log() const { return slurp(home_ + "/server_logs/server.log"); }
std::string NetCluster::mom_log(int i) const { return slurp(mom_home(i) + "/mom_logs/mom.log"); }

Result NetCluster::cmd(const std::string& user, std::vector<std::string> argv, const std::string& dir,
                       const std::string& stdin_data) {
  if (argv[0].find('/') == std::string::npos) argv[0] = bin(argv[0]);
  return run(argv, user, {{"PBS_HOME", home_}, {"MUNGE_SOCKET", tmp_ + "/munge.sock"}}, dir, stdin_data);
}

Result NetCluster::remote_cmd(int i, const std::string& user, std::vector<std::string> argv) {
  if (argv[0].find('/') == std::string::npos) argv[0] = bin(argv[0]);
  // ip netns exec first (as root), then the client as the user inside that namespace.
  std::vector<std::string> full{"ip", "netns", "exec", ns(node(i))};
  if (!user.empty()) full.insert(full.end(), {"runuser", "-u", user, "--"});
  full.insert(full.end(), {"env", "PBS_HOME=" + tmp_ + "/nonexistent", "PBS_SERVER=" + server_address() + ":" +
                                      std::to_string(server_port()), "MUNGE_SOCKET=" + tmp_ + "/munge.sock"});
  full.insert(full.end(), argv.begin(), argv.end());
  return run(full);
}

std::string NetCluster::workdir(const std::string& user) {
  std::string d = tmp_ + "/work-" + (user.empty() ? "root" : user);
  mkdir(d.c_str(), 0755);
  if (user.empty()) return d;
  Result r = run({"chown", user, d});
  (void)r;
  return d;
}

std::string NetCluster::submit(const std::string& user, const std::string& script,
                               const std::vector<std::string>& opts) {
  std::vector<std::string> argv{"qsub"};
  argv.insert(argv.end(), opts.begin(), opts.end());
  return job_id_of(cmd(user, argv, workdir(user), script));
}

std::string NetCluster::attr(const std::string& job, const std::string& name) {
  return full_attr(cmd("", {"qstat", "-f", job}).out, name);
}

bool NetCluster::wait_attr(const std::string& job, const std::string& name, const std::string& value, int seconds) {
  return wait_for([&] { return attr(job, name) == value; }, std::chrono::seconds(seconds));
}

std::string NetCluster::job_node(const std::string& job) {
  if (attr(job, "job_state") != "R") return "";
  std::string host = attr(job, "exec_host");
  return host.substr(0, host.find('/'));
}

std::string NetCluster::node_state(int i) {
  Result r = cmd("", {"pbsnodes", node(i)});
  std::istringstream in(r.out);
  std::string line, key = "     state = ";
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  return "";
}

bool NetCluster::start_server(bool create) {
  std::vector<std::string> argv{"ip", "netns", "exec", ns("s"), bin("pbs_server"), "-d", home_, "-p",
                                std::to_string(server_port()), "-L", server_address()};
  if (create) argv.insert(argv.end(), {"-t", "create"});
  return run(argv, "", {{"MUNGE_SOCKET", tmp_ + "/munge.sock"}}).code == 0;
}

void NetCluster::kill_server(int sig) { kill_and_wait(server_pid(), sig); }
pid_t NetCluster::server_pid() const { return read_pid_file(home_ + "/server_priv/server.lock"); }

bool NetCluster::start_mom(int i) {
  // Every node has its PBS_HOME at the same path, as on a real cluster (/var/spool/torque):
  // a restarted job reopens its script and PBS_NODEFILE by that path. `ip netns exec` gives
  // the mom a mount namespace of its own, where its home is bound over the common path.
  std::string common = tmp_ + "/mom";
  ::mkdir(common.c_str(), 0755);
  std::string sh = "mount --bind " + mom_home(i) + " " + common + " && exec " + bin("pbs_mom") + " -d " + common;
  return run({"ip", "netns", "exec", ns(node(i)), "sh", "-c", sh}, "", {{"MUNGE_SOCKET", tmp_ + "/munge.sock"}})
             .code == 0;
}

void NetCluster::kill_mom(int i, int sig) { kill_and_wait(mom_pid(i), sig); }
pid_t NetCluster::mom_pid(int i) const { return read_pid_file(mom_home(i) + "/mom_priv/mom.lock"); }

std::vector<pid_t> NetCluster::processes(int i) const {
  std::vector<pid_t> pids;
  std::istringstream in(run({"ip", "netns", "pids", ns(node(i))}).out);
  for (pid_t p; in >> p;) pids.push_back(p);
  return pids;
}

std::vector<pid_t> NetCluster::job_processes(int i) const {
  std::vector<pid_t> pids;
  for (pid_t p : processes(i))
    if (slurp("/proc/" + std::to_string(p) + "/environ").find("PBS_NODEFILE=") != std::string::npos)
      pids.push_back(p);
  return pids;
}

void NetCluster::power_off(int i) {
  cut(i);
  for (int round = 0; round < 3; ++round)  // a supervisor may fork while we kill
    for (pid_t p : processes(i)) kill(p, SIGKILL);
}

}  // namespace reprise::test
