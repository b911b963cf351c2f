// cr_run CMD [ARG...]: runs CMD so that it and everything it starts can be
// checkpointed. It preloads the agent, turns off glibc's rseq registration
// (which a restart cannot carry over safely), and runs CMD in its own pid
// namespace so that a restart can give back the same pids. Stdio is
// inherited; cr_run exits the way CMD did.
#include <unistd.h>

#include <CLI/CLI.hpp>
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
  std::string agent = reprise::cr::ExecutableDir() + "/../lib/libreprise_agent.so";
  if (access(agent.c_str(), R_OK) != 0) {
    std::cerr << "cr_run: cannot find the checkpoint agent at " << agent << "\n";
    exit(127);
  }
  setenv("LD_PRELOAD", Join(agent, getenv("LD_PRELOAD"), ':').c_str(), 1);
  setenv("GLIBC_TUNABLES", Join("glibc.pthread.rseq=0", getenv("GLIBC_TUNABLES"), ':').c_str(), 1);
}

[[noreturn]] void ExecProgram(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  std::cerr << "cr_run: " << argv[0] << ": " << strerror(errno) << "\n";
  _exit(errno == ENOENT ? 127 : 126);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Run a program so that it can be checkpointed with cr_checkpoint and restarted with cr_restart."};
  std::vector<std::string> command;
  bool no_namespace = false;
  app.add_flag("--no-namespace", no_namespace,
               "Run in the current pid namespace (a restart then needs the old pids free, or --no-restore-pid)");
  app.prefix_command();  // the program name and everything after it belong to the program
  app.set_version_flag("--version", "cr_run (Reprise) 0.1");
  app.footer("Usage: cr_run [--no-namespace] CMD [ARG...]");
  CLI11_PARSE(app, argc, argv);
  command = app.remaining();
  if (command.empty()) {
    std::cerr << "cr_run: no program given; usage: cr_run [--no-namespace] CMD [ARG...]\n";
    return 255;
  }

  PrepareEnvironment();
  if (!no_namespace) {
    reprise::cr::PidNamespaceRun run;
    std::string error;
    auto start_root = [&]() -> pid_t {
      pid_t pid = fork();
      if (pid == 0) ExecProgram(command);
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
  if (pid == 0) ExecProgram(command);
  reprise::cr::ForwardSignals(pid);
  reprise::cr::ExitLike(reprise::cr::WaitFor(pid));
}
