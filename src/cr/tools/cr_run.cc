// cr_run CMD [ARG...]: runs CMD so that it and everything it starts can be
// checkpointed. It preloads the agent, turns off glibc's rseq registration
// (which a restart cannot carry over safely), and runs CMD in its own pid
// namespace so that a restart can give back the same pids. Stdio is
// inherited; cr_run exits the way CMD did.
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "lib/pid_namespace.h"
#include "lib/system_facts.h"

namespace {

std::string Join(const std::string& entry, const char* existing, char sep) {
  if (!existing || !*existing) return entry;
  return entry + sep + existing;
}

void PrepareEnvironment() {
  std::string tried;
  std::string agent = reprise::cr::EngineFile("libreprise_agent.so", tried);
  if (agent.empty()) {
    std::cerr << "cr_run: cannot find the checkpoint agent libreprise_agent.so (looked at " << tried
              << "); reinstall Reprise\n";
    exit(127);
  }
  setenv("LD_PRELOAD", Join(agent, getenv("LD_PRELOAD"), ':').c_str(), 1);
  setenv("GLIBC_TUNABLES", Join("glibc.pthread.rseq=0", getenv("GLIBC_TUNABLES"), ':').c_str(), 1);
}

// With --user (root only): the program runs as that user, while cr_run and
// the namespace's init stay root. This is how pbs_mom starts checkpointable
// jobs: the pid namespace belongs to the host, so root can checkpoint them.
struct RunAs {
  bool set = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
};

RunAs LookUpUser(const std::string& user) {
  RunAs r;
  if (user.empty()) return r;
  const passwd* pw = getpwnam(user.c_str());
  if (!pw && !user.empty() && std::all_of(user.begin(), user.end(), ::isdigit)) pw = getpwuid(std::stoul(user));
  if (!pw) {
    std::cerr << "cr_run: unknown user '" << user << "'\n";
    exit(255);
  }
  if (geteuid() != 0) {
    std::cerr << "cr_run: --user needs root\n";
    exit(255);
  }
  r.set = true;
  r.uid = pw->pw_uid;
  r.gid = pw->pw_gid;
  r.name = pw->pw_name;
  return r;
}

void BecomeUser(const RunAs& r) {
  if (!r.set) return;
  if (initgroups(r.name.c_str(), r.gid) != 0 || setgid(r.gid) != 0 || setuid(r.uid) != 0) {
    std::cerr << "cr_run: cannot become " << r.name << ": " << strerror(errno) << "\n";
    _exit(126);
  }
}

std::string g_argv0;  // --argv0: what the program sees as its name (e.g. "-bash")

[[noreturn]] void ExecProgram(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  if (!g_argv0.empty()) args[0] = g_argv0.data();
  execvp(argv[0].c_str(), args.data());
  std::cerr << "cr_run: " << argv[0] << ": " << strerror(errno) << "\n";
  _exit(errno == ENOENT ? 127 : 126);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run a program so that it can be checkpointed with cr_checkpoint and restarted with cr_restart."};
  std::vector<std::string> command;
  bool no_namespace = false;
  std::string user;
  app.add_option("--user", user, "Run the program as this user (root only; cr_run itself stays root)");
  app.add_option("--argv0", g_argv0, "Name the program sees as argv[0] (e.g. -bash for a login shell)");
  app.add_flag("--no-namespace", no_namespace,
               "Run in the current pid namespace (a restart then needs the old pids free, or --no-restore-pid)");
  app.prefix_command();  // the program name and everything after it belong to the program
  app.set_version_flag("--version", "cr_run (Reprise) 0.1");
  app.footer("Usage: cr_run [--no-namespace] [--user USER] [--argv0 NAME] CMD [ARG...]");
  CLI11_PARSE(app, argc, argv);
  command = app.remaining();
  if (command.empty()) {
    std::cerr << "cr_run: no program given; usage: cr_run [--no-namespace] CMD [ARG...]\n";
    return 255;
  }

  RunAs run_as = LookUpUser(user);
  PrepareEnvironment();
  if (!no_namespace) {
    reprise::cr::PidNamespaceRun run;
    std::string error;
    auto start_root = [&]() -> pid_t {
      pid_t pid = fork();
      if (pid == 0) {
        BecomeUser(run_as);
        ExecProgram(command);
      }
      return pid;
    };
    if (run.Start(start_root, &error)) reprise::cr::ExitLike(run.Wait());
    std::cerr << "cr_run: warning: " << error << "; running without a pid namespace\n";
  }
  pid_t pid = fork();
  if (pid < 0) {
    std::cerr << "cr_run: fork: " << strerror(errno) << "\n";
    return 126;
  }
  if (pid == 0) {
    BecomeUser(run_as);
    ExecProgram(command);
  }
  reprise::cr::ForwardSignals(pid);
  reprise::cr::ExitLike(reprise::cr::WaitFor(pid));
}
