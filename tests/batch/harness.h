// A real batch cluster for integration tests: munged with a fresh key, pbs_server and pbs_mom
// in a temporary PBS_HOME on free loopback ports. Everything is killed in the destructor.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace reprise::test {

struct Result {
  int code = -1;
  std::string out, err;
};

// Runs argv (as `user` when not empty) with extra environment, in `dir`; waits for it.
Result run(const std::vector<std::string>& argv, const std::string& user = "",
           const std::map<std::string, std::string>& env = {}, const std::string& dir = "/",
           const std::string& stdin_data = "");

// Makes sure a local user exists (useradd -m) and returns its uid.
uid_t ensure_user(const std::string& name);

bool wait_for(const std::function<bool()>& cond, std::chrono::milliseconds timeout);

int free_port();
std::string bin(const std::string& name);  // path of a built program
// From now on bin() names programs of an installed tree: PREFIX/bin/NAME, else
// PREFIX/sbin/NAME (the daemons). Used by the installed-files test.
void use_installed_programs(const std::string& prefix);

std::string slurp(const std::string& path);          // a whole file, "" if unreadable
std::string seq_of(const std::string& job_id);       // "12.host" -> "12"
std::string job_id_of(const Result& qsub);           // qsub's output without the newline; "" on failure
// One attribute's value from `qstat -f` output, "" if absent.
std::string full_attr(const std::string& qstat_f, const std::string& name);

// Starts munged with a fresh key of its own in `dir` (socket dir/munge.sock); returns its
// pid, or 0 with `why` set.
pid_t start_munged(const std::string& dir, std::string& why);

pid_t read_pid_file(const std::string& path);  // 0 if unreadable
bool process_gone(pid_t pid);                  // gone, or a zombie nobody reaped yet
void kill_and_wait(pid_t pid, int sig);        // up to 10 s

class Cluster {
 public:
  Cluster();
  ~Cluster();
  bool ok() const { return ok_; }
  const std::string& why() const { return why_; }  // why the cluster did not start
  const std::string& home() const { return home_; }
  const std::string& tmp() const { return tmp_; }
  int port() const { return port_; }
  std::map<std::string, std::string> env() const;  // PBS_HOME, MUNGE_SOCKET

  // A client command as `user` ("" = root) from `dir`.
  Result cmd(const std::string& user, std::vector<std::string> argv, const std::string& dir = "/",
             const std::string& stdin_data = "");
  // Submits `script` as `user` from a work dir owned by the user; returns the job id.
  std::string submit(const std::string& user, const std::string& script,
                     const std::vector<std::string>& opts = {});
  std::string workdir(const std::string& user);  // created on demand, owned by user

  // One attribute of `qstat -f` (as root), "" if absent.
  std::string attr(const std::string& job, const std::string& name);
  bool wait_state(const std::string& job, const std::string& state, int seconds = 20);

  bool start_server(bool create);
  bool start_mom();
  void kill_server(int sig);
  void kill_mom(int sig);
  pid_t server_pid() const;
  pid_t mom_pid() const;

 private:
  std::string tmp_, home_;
  int port_ = 0;
  pid_t munged_ = 0;
  bool ok_ = false;
  std::string why_;
};

// A second pbs_mom on this machine under another node name, with its own
// PBS_HOME (tmp()/home2), created as a node of the cluster and up (free) when
// ok(); killed when this goes.
class SecondMom {
 public:
  SecondMom(Cluster& c, const std::string& node);
  ~SecondMom();
  SecondMom(const SecondMom&) = delete;
  SecondMom& operator=(const SecondMom&) = delete;
  bool ok() const { return ok_; }
  const std::string& home() const { return home_; }

 private:
  std::string home_;
  bool ok_ = false;
};

}  // namespace reprise::test
