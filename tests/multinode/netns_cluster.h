// Several hosts on one machine, for the multi-node tests. Each host is a network namespace
// with one veth link to a "wire" namespace holding a bridge; the server has a host of its
// own. Addresses are 10.213.0.0/24 inside the namespaces and nothing reaches the machine's
// own network. All hosts share the file system (as nodes share /home and a checkpoint
// directory on a real cluster) and one munged (one MUNGE key for the whole cluster).
//
//   server   rpNNNNNs   10.213.0.1   pbs_server -L 10.213.0.1 -p 15001
//   node i   rpNNNNNni  10.213.0.1i  pbs_mom, $mom_host ni, $pbsserver 10.213.0.1:15001
//
// Clients run in the root namespace and reach the server through its Unix socket (which
// is a file); remote_cmd() runs one inside a node's namespace, over TCP and MUNGE.
#pragma once
#include <sys/types.h>

#include <string>
#include <vector>

#include "harness.h"

namespace reprise::test {

class NetCluster {
 public:
  // `mom_config`: extra lines for every mom's config; `server_attrs`: qmgr commands run
  // once the server is up (e.g. "set server node_check_rate = 3").
  NetCluster(int nodes, const std::string& mom_config = "", const std::vector<std::string>& qmgr = {});
  ~NetCluster();
  NetCluster(const NetCluster&) = delete;
  NetCluster& operator=(const NetCluster&) = delete;

  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }
  bool namespaces_unavailable() const { return no_netns_; }  // the only reason to skip
  int nodes() const { return nodes_; }
  static std::string node(int i) { return "n" + std::to_string(i); }
  static std::string server_address() { return "10.213.0.1"; }
  static int server_port() { return 15001; }
  const std::string& home() const { return home_; }  // the server's PBS_HOME
  const std::string& tmp() const { return tmp_; }
  std::string mom_home(int i) const;  // node i's PBS_HOME, seen by its mom at tmp()/mom
  std::string server_log() const;
  std::string mom_log(int i) const;

  // A client command as `user` ("" = root), through the server's Unix socket.
  Result cmd(const std::string& user, std::vector<std::string> argv, const std::string& dir = "/",
             const std::string& stdin_data = "");
  // A client command run on node i, over TCP with a MUNGE credential.
  Result remote_cmd(int i, const std::string& user, std::vector<std::string> argv);
  std::string submit(const std::string& user, const std::string& script, const std::vector<std::string>& opts = {});
  std::string workdir(const std::string& user);
  std::string attr(const std::string& job, const std::string& name);
  bool wait_attr(const std::string& job, const std::string& name, const std::string& value, int seconds);
  // The node the job runs on ("" when not running).
  std::string job_node(const std::string& job);
  // `pbsnodes` state of node i (e.g. "free", "down", "job-exclusive").
  std::string node_state(int i);

  bool start_server(bool create);
  void kill_server(int sig);
  pid_t server_pid() const;
  bool start_mom(int i);
  void kill_mom(int i, int sig);
  pid_t mom_pid(int i) const;

  // Removes node i's link to the wire (its host is cut off) / puts it back.
  bool cut(int i);
  bool reconnect(int i);
  // Every process in node i's namespace: the mom, job supervisors and the jobs.
  std::vector<pid_t> processes(int i) const;
  // The processes of jobs on node i (those in its namespace with a PBS_NODEFILE).
  std::vector<pid_t> job_processes(int i) const;
  // A host that dies: every process on it is killed (SIGKILL) and its link removed.
  void power_off(int i);

 private:
  std::string ns(const std::string& host) const { return "rp" + tag_ + host; }
  bool ip(const std::vector<std::string>& args);
  bool link_host(const std::string& host, const std::string& address);

  int nodes_ = 0;
  std::string tag_, tmp_, home_;
  pid_t munged_ = 0;
  bool ok_ = false, no_netns_ = false;
  std::string why_;
};

}  // namespace reprise::test
