// cr_restart [--no-restore-pid] [--clock=continue|host] PATH: brings back the processes of an image
// and stays their parent in the foreground, exiting the way the restored
// root process exits. Failures exit with an errno value (BLCR convention)
// and a one-line message, before any restored code runs.
#include <iostream>

#include <CLI/CLI.hpp>

#include "lib/restart.h"

int main(int argc, char** argv) {
  CLI::App app{"Restart processes from a checkpoint image written by cr_checkpoint."};
  reprise::cr::RestartRequest req;
  bool no_restore_pid = false, restore_pid = false;
  std::string file;
  app.add_flag("--no-restore-pid", no_restore_pid,
               "Give the processes new pids in the current pid namespace instead of their saved ones");
  app.add_flag("--restore-pid", restore_pid, "Restore the saved pids (default)");
  std::string external = "refuse";
  app.add_option("--external-sockets", external,
                 "Connections to outside the checkpointed job: 'refuse' (default) or 'closed' (restored as closed"
                 " connections: the program sees EOF or ECONNRESET and can reconnect)")
      ->check(CLI::IsMember({"refuse", "closed"}));
  std::string clock = "continue";
  app.add_option("--clock", clock,
                 "CLOCK_MONOTONIC and CLOCK_BOOTTIME after the restart: 'continue' (default: they go on from their"
                 " values at the checkpoint, in a time namespace) or 'host' (they show the host's clocks, which"
                 " moved on by the time spent stopped)")
      ->check(CLI::IsMember({"continue", "host"}));
  app.add_option("-f,--file", file, "The image (alternative to the positional argument)");
  app.add_option("IMAGE", req.path, "The image file");
  app.set_version_flag("--version", "cr_restart (Reprise) 0.1");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 255;
  }
  if (req.path.empty()) req.path = file;
  if (req.path.empty()) {
    std::cerr << "cr_restart: no image given; usage: cr_restart [--no-restore-pid] IMAGE\n";
    return 255;
  }
  req.restore_pid = !no_restore_pid;
  req.external_sockets_closed = external == "closed";
  req.clocks_continue = clock == "continue";
  reprise::cr::RestartFailure f = reprise::cr::Restart(req);
  std::cerr << "cr_restart: " << f.message << "\n";
  return f.exit_code > 0 && f.exit_code < 255 ? f.exit_code : 1;
}
