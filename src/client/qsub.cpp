// qsub [options] [script]: submit a batch job; prints its id.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <iterator>
#include <sstream>

#include "client/client.h"
#include "client/submit_options.h"
#include "common/directives.h"
#include "common/job_env.h"
#include "common/text_util.h"

extern char** environ;

using namespace reprise;
using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  std::vector<std::string> cli(argv, argv + argc);
  // As TORQUE's qsub: --version before anything else, on stderr.
  for (size_t i = 1; i < cli.size() && cli[i] != "--"; ++i)
    if (cli[i] == "--version") {
      std::cerr << "Version: " << REPRISE_VERSION << "\n";
      return 0;
    }
  char cwdbuf[4096];
  std::string cwd = ::getcwd(cwdbuf, sizeof cwdbuf) ? cwdbuf : "/";
  if (const char* pwd = std::getenv("PWD"); pwd && *pwd == '/') {
    // Prefer the logical directory the user sees, when it is the same place.
    char real[4096];
    if (::realpath(pwd, real) && cwd == real) cwd = pwd;
  }

  // Pass 1: command line only, to learn the script and the directive prefix.
  Submission first;
  std::string error;
  if (!apply_submit_options(cli, cwd, first, error)) return fail(error, 2);
  if (first.operands.size() > 1)
    return fail("too many arguments: one script file only (pass its arguments with -F \"ARGS\")", 2);
  std::string prefix = "#PBS";
  if (const char* p = std::getenv("PBS_DPREFIX"); p && *p) prefix = p;
  for (size_t i = 1; i + 1 < cli.size(); ++i)
    if (cli[i] == "-C") prefix = cli[i + 1];

  std::string script, script_name = "STDIN";
  if (first.operands.empty() || first.operands[0] == "-") {
    script.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    if (!read_file(first.operands[0], script)) return fail("script file cannot be loaded - No such file or directory (" + first.operands[0] + ")");
    script_name = first.operands[0].substr(first.operands[0].rfind('/') + 1);
  }
  if (trim(script).empty()) return fail("script file is empty");
  // A script file with DOS line ends is refused, as TORQUE does; one on stdin loses its CRs
  // at the ends of lines (TORQUE's get_script does the same).
  if (!first.operands.empty() && first.operands[0] != "-") {
    if (script.find("\r\n") != std::string::npos) return fail(" script is written in DOS/Windows text format");
  } else {
    std::string unix_text;
    for (size_t i = 0; i < script.size(); ++i)
      if (!(script[i] == '\r' && i + 1 < script.size() && script[i + 1] == '\n')) unix_text += script[i];
    script.swap(unix_text);
  }
  if (script.find('\0') != std::string::npos) return fail("script contains binary data (NUL bytes)");

  // Pass 2: directives, then the command line again so it overrides them.
  std::vector<std::string> words{"qsub"};
  if (!parse_pbs_directives(script, prefix, words, error)) return fail("directive error: " + error, 2);
  Submission sub;
  if (!apply_submit_options(words, cwd, sub, error)) return fail("directive error: " + error, 2);
  if (!sub.operands.empty()) return fail("directive error: unexpected argument '" + sub.operands[0] + "'", 2);
  Submission cmdline;
  apply_submit_options(cli, cwd, cmdline, error);
  for (const auto& [k, v] : cmdline.attrs) sub.attrs[k] = v;
  for (const auto& [k, v] : cmdline.resources) sub.resources[k] = v;
  sub.pass_vars.insert(sub.pass_vars.end(), cmdline.pass_vars.begin(), cmdline.pass_vars.end());
  sub.export_all = sub.export_all || cmdline.export_all;
  sub.quiet = sub.quiet || cmdline.quiet;

  if (!sub.attrs.count("Job_Name")) sub.attrs["Job_Name"] = script_name;
  VarList vars;
  auto env = [](const char* n) {
    const char* v = std::getenv(n);
    return std::string(v ? v : "");
  };
  if (sub.export_all)
    for (char** e = environ; *e; ++e) {
      std::string kv = *e;
      auto eq = kv.find('=');
      if (eq != std::string::npos && !starts_with(kv, "PBS_")) vars.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    }
  for (const std::string& item : sub.pass_vars) {
    auto eq = item.find('=');
    if (eq == std::string::npos) vars.emplace_back(item, env(item.c_str()));
    else vars.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  vars.emplace_back("PBS_O_HOME", env("HOME"));
  vars.emplace_back("PBS_O_LANG", env("LANG"));
  vars.emplace_back("PBS_O_LOGNAME", env("LOGNAME"));
  vars.emplace_back("PBS_O_PATH", env("PATH"));
  vars.emplace_back("PBS_O_MAIL", env("MAIL"));
  vars.emplace_back("PBS_O_SHELL", env("SHELL"));
  vars.emplace_back("PBS_O_HOST", this_host());
  vars.emplace_back("PBS_O_WORKDIR", cwd);
  if (sub.attrs.count("init_work_dir")) vars.emplace_back("PBS_O_INITDIR", sub.attrs["init_work_dir"]);

  wire::Request req;
  req.set_op("submit");
  for (const auto& [k, v] : sub.attrs) (*req.mutable_attrs())[k] = v;
  for (const auto& [k, v] : sub.resources) (*req.mutable_attrs())["Resource_List." + k] = v;
  (*req.mutable_attrs())["Variable_List"] = encode_variable_list(vars);
  (*req.mutable_attrs())["submit_args"] = join(std::vector<std::string>(cli.begin() + 1, cli.end()), " ");
  req.set_script(script);

  Connection conn;
  if (!conn.open(error)) return fail(error);
  wire::Response resp;
  if (!conn.call(req, resp, error)) return fail("cannot talk to the server: " + error);
  if (resp.code() != 0) return fail("submit error (" + resp.error() + ")", resp.code() % 256 ? resp.code() % 256 : 1);
  if (!sub.quiet) std::cout << resp.text() << "\n";
  return 0;
}
