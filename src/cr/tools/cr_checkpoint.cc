// cr_checkpoint [options] ID: writes an image of the processes of ID (a
// process tree by default) that were started under cr_run. BLCR-compatible
// options; exits 0 only when the image is complete and durable, otherwise
// with an errno value and a one-line message.
#include <cctype>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "lib/checkpoint.h"

namespace {

// "1048576", "64k", "128m", "1g" (also with "b" or "ib" after the unit).
std::optional<uint64_t> ParseSize(const std::string& text) {
  size_t end = 0;
  uint64_t n = 0;
  try {
    n = std::stoull(text, &end);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string unit = text.substr(end);
  for (char& c : unit) c = static_cast<char>(tolower(static_cast<unsigned char>(c)));
  if (unit.size() > 1 && unit.back() == 'b') unit.pop_back();
  if (unit.size() > 1 && unit.back() == 'i') unit.pop_back();
  int shift = unit.empty() || unit == "b" ? 0 : unit == "k" ? 10 : unit == "m" ? 20 : unit == "g" ? 30 : -1;
  if (shift < 0 || n > (UINT64_MAX >> shift)) return std::nullopt;
  return n << shift;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Checkpoint processes started under cr_run into an image file."};
  reprise::cr::CheckpointRequest req;
  bool tree = false, pid = false, pgid = false, sid = false;
  bool kill_after = false, term_after = false, stop_after = false, cont_after = false, abort_after = false;
  bool run = false, quiet = false, verbose = false;
  int signal_after = 0, timeout = 30;
  app.add_flag("-T,--tree", tree, "The process ID and all its descendants (default)");
  app.add_flag("-p,--pid,--process", pid, "Only process ID");
  app.add_flag("-g,--pgid,--group", pgid, "Every process of process group ID");
  app.add_flag("-s,--sid,--session", sid, "Every process of session ID");
  app.add_option("-f,--file", req.file, "Image file to write (default: context.ID in the current directory)");
  app.add_option("-S,--signal", signal_after, "Send signal N to the processes after the checkpoint")
      ->check(CLI::Range(1, 64));
  app.add_flag("--kill", kill_after, "Send SIGKILL after the checkpoint");
  app.add_flag("--term", term_after, "Send SIGTERM after the checkpoint");
  app.add_flag("--stop", stop_after, "Leave the processes stopped (SIGSTOP) after the checkpoint");
  app.add_flag("--cont", cont_after, "Send SIGCONT after the checkpoint");
  app.add_flag("--abort", abort_after, "Send SIGABRT after the checkpoint");
  app.add_flag("--run", run, "Let the processes continue (default)");
  app.add_option("-t,--time", timeout, "Seconds to wait for the processes to answer")->check(CLI::PositiveNumber);
  app.add_flag("-q,--quiet", quiet, "Print nothing on success");
  app.add_flag("-v,--verbose", verbose, "Print what was written and where the time went");
  std::string external = "refuse";
  app.add_option("--external-sockets", external,
                 "Connections to outside the checkpointed job: 'refuse' (default) or 'closed' (cr_restart"
                 " --external-sockets=closed brings them back closed, so the program can reconnect)")
      ->check(CLI::IsMember({"refuse", "closed"}));
  std::string rewritten = "save", rewritten_limit;
  app.add_option("--rewritten-files", rewritten,
                 "Files the program rewrites in place (O_RDWR, not O_APPEND): 'save' (default: their contents go"
                 " in the image and are written back at restart), 'refuse' (the checkpoint fails naming them) or"
                 " 'keep-current' (not saved: the restart uses them as it finds them)")
      ->check(CLI::IsMember({"save", "refuse", "keep-current"}));
  app.add_option("--rewritten-limit", rewritten_limit,
                 "Most bytes of one rewritten file the image keeps (default 64m, at most 200m); a bigger one is"
                 " refused");
  pid_t id = 0;
  app.add_option("ID", id, "Process (or group/session) id; a cr_run's pid means its program")->required();
  app.set_version_flag("--version", "cr_checkpoint (Reprise) 0.1");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 255;
  }
  if (tree + pid + pgid + sid > 1) {
    std::cerr << "cr_checkpoint: choose one of --tree, --pid, --pgid, --sid\n";
    return 255;
  }
  req.id = id;
  req.scope = pid ? reprise::cr::kScopePid : pgid ? reprise::cr::kScopePgid : sid ? reprise::cr::kScopeSid
                                                                               : reprise::cr::kScopeTree;
  req.signal_after = kill_after ? SIGKILL : term_after ? SIGTERM : abort_after ? SIGABRT : cont_after ? SIGCONT
                                                                                                     : signal_after;
  req.stop_before_resume = stop_after;
  req.hello_timeout_ms = timeout * 1000;
  req.external_sockets_closed = external == "closed";
  req.rewritten_policy = rewritten == "refuse"         ? reprise::cr::kRewrittenRefuse
                         : rewritten == "keep-current" ? reprise::cr::kRewrittenKeepCurrent
                                                       : reprise::cr::kRewrittenSave;
  if (!rewritten_limit.empty()) {
    auto bytes = ParseSize(rewritten_limit);
    if (!bytes || *bytes == 0 || *bytes > reprise::cr::kMaxRewrittenFileBytes) {
      std::cerr << "cr_checkpoint: --rewritten-limit must be a size from 1 byte to 200m (e.g. 128m), not '"
                << rewritten_limit << "'\n";
      return 255;
    }
    req.rewritten_limit = *bytes;
  }
  reprise::cr::CheckpointOutcome out = reprise::cr::Checkpoint(req);
  if (out.exit_code != 0) {
    std::cerr << "cr_checkpoint: " << out.message << "\n";
    return out.exit_code > 0 && out.exit_code < 255 ? out.exit_code : 1;
  }
  if (verbose && !quiet)
    std::cerr << "cr_checkpoint: " << out.processes << " process(es), " << out.bytes << " bytes to " << out.path
              << "; stop " << out.stop_seconds << " s, write " << out.write_seconds << " s, sync "
              << out.sync_seconds << " s\n";
  return 0;
}
