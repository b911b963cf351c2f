// pbs_server [-d HOME] [-p PORT] [-t create] [-D] [-L ADDR]
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "common/net.h"
#include "common/pbs_home.h"
#include "common/text_util.h"
#include "server/server.h"

using namespace reprise;

static int usage(const char* why) {
  std::fprintf(stderr, "pbs_server: %s\nusage: pbs_server [-d HOME] [-p PORT] [-t create] [-D] [-L LISTEN_ADDR]\n", why);
  return 2;
}

namespace reprise::server {

// Makes TORQUE's home layout; writes server_priv/nodes with this host unless present.
bool Server::create_home(std::string& error) {
  const std::string& h = opts_.home;
  struct Dir {
    std::string path;
    mode_t mode;
  };
  for (const Dir& d : {Dir{h, 0755}, Dir{h + "/server_priv", 0750}, Dir{h + "/server_logs", 0750},
                       Dir{h + "/mom_priv", 0751}, Dir{h + "/mom_priv/jobs", 0751},
                       Dir{h + "/mom_logs", 0750}, Dir{h + "/spool", 01777},
                       Dir{h + "/undelivered", 01777}, Dir{h + "/checkpoint", 0755},
                       Dir{h + "/aux", 0755}}) {
    if (::mkdir(d.path.c_str(), d.mode) != 0 && errno != EEXIST) {
      error = "cannot create " + d.path + ": " + std::strerror(errno);
      return false;
    }
    ::chmod(d.path.c_str(), d.mode);
  }
  std::string existing;
  if (!read_file(h + "/server_priv/nodes", existing)) {
    unsigned cores = std::thread::hardware_concurrency();
    if (!write_file_atomic(h + "/server_priv/nodes",
                           local_hostname() + " np=" + std::to_string(cores ? cores : 1) + "\n", 0644, error))
      return false;
  }
  if (!read_file(h + "/server_name", existing) &&
      !write_file_atomic(h + "/server_name", local_hostname() + "\n", 0644, error))
    return false;
  if (!read_file(h + "/mom_priv/config", existing)) {
    std::string server = opts_.listen_addr.empty() ? local_hostname() : opts_.listen_addr;
    if (!write_file_atomic(h + "/mom_priv/config",
                           "$pbsserver " + server + ":" + std::to_string(opts_.port) + "\n$loglevel 1\n",
                           0644, error))
      return false;
  }
  return true;
}

}  // namespace reprise::server

int main(int argc, char** argv) {
  server::Options opts;
  std::string home_opt;
  opts.foreground = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (a == "-d") {
      const char* v = value();
      if (!v) return usage("-d needs a directory");
      home_opt = v;
    } else if (a == "-p") {
      const char* v = value();
      long port;
      if (!v || !parse_int(v, port) || port <= 0 || port > 65535) return usage("-p needs a port number");
      opts.port = int(port);
    } else if (a == "-t") {
      const char* v = value();
      if (!v || std::string(v) != "create") return usage("-t supports only 'create'");
      opts.create = true;
    } else if (a == "-D") {
      opts.foreground = true;
    } else if (a == "-L") {
      const char* v = value();
      if (!v) return usage("-L needs an address");
      opts.listen_addr = v;
    } else {
      return usage(("unknown option " + a).c_str());
    }
  }
  if (::geteuid() != 0) return usage("must be run as root");
  opts.home = resolve_pbs_home(home_opt);
  server::Server s(opts);
  return s.run();
}
