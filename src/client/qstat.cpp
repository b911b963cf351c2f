// qstat [-f [-F json]] [-x] [-a|-i|-r] [-u USER,...] [-n [-1]] [-s] [-R] [-G|-M] [-c] [-t] [-W LETTERS] [ID|QUEUE...]
//   |  -Q [-f] [QUEUE...]  |  -q [-G|-M] [QUEUE...]  |  -B [-f]  |  --version
#include <getopt.h>
#include <google/protobuf/arena.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>

#include "client/client.h"
#include "client/qstat_format.h"
#include "common/text_util.h"

using namespace reprise;
using namespace reprise::client;

int main(int argc, char** argv) {
  set_program(argv[0]);
  bool full = false, alt = false, queues = false, server = false, xml = false, queue_alt = false;
  bool running_only = false, idle_only = false, expand_arrays = false;
  bool no_complete = std::getenv("PBS_QSTAT_NO_COMPLETE") != nullptr;
  AltOptions alt_opt;
  std::string format, user;
  int modes = 0;  // -a, -i, -r, -q: at most one (TORQUE's "conflicting options")
  int c;
  opterr = 0;
  auto letter = [&](char l, const char* arg) {
    switch (l) {
      case 'a': alt = true; modes |= 1; return true;
      case 'i': idle_only = alt = true; modes |= 2; return true;
      case 'r': running_only = alt = true; modes |= 4; return true;
      case 'q': queue_alt = true; modes |= 8; return true;
      case 'n': alt_opt.nodes = alt = true; return true;
      case 's': alt_opt.comment = alt = true; return true;
      case 'R': alt_opt.srfs = alt = true; return true;
      case 'G':
      case 'M':
        if (alt_opt.unit != SizeUnit::kAsIs && alt_opt.unit != (l == 'G' ? SizeUnit::kGb : SizeUnit::kMw)) return false;
        alt_opt.unit = l == 'G' ? SizeUnit::kGb : SizeUnit::kMw;
        alt = true;
        return true;
      case 'u': user = arg; alt = true; return true;
      default: return false;
    }
  };
  while ((c = getopt(argc, argv, ":aceE:fgiln1pqrstu:xGMQRBW:F:-:")) != -1) {
    switch (c) {
      case 'f': full = true; break;
      case 'e': break;  // only jobs in execution queues: every job here is in one
      case 'c': no_complete = true; break;
      case 'l': break;  // TORQUE parses -l and prints nothing differently (alias_opt is unused)
      case 't': expand_arrays = true; break;  // sub-jobs of arrays, not one line per array
      case 'x': xml = true; break;
      case '1': alt_opt.one_line = true; break;
      case 'Q': queues = true; break;
      case 'B': server = true; break;
      case 'F':
        format = optarg;
        if (format != "json") return fail("unsupported -F format '" + format + "' (only json)", 2);
        break;
      case 'a': case 'i': case 'r': case 'q': case 'n': case 's': case 'R': case 'G': case 'M': case 'u':
        if (!letter(char(c), optarg)) return fail("conflicting options: -G and -M", 2);
        break;
      case 'W':
        // TORQUE's site-specific letters: a i r n s q R G M, and u with the rest as the user list.
        for (const char* p = optarg; *p; ++p) {
          if (*p == ' ') continue;
          if (*p == 'u') {
            while (*++p == ' ') {}
            if (!letter('u', p)) return fail("-W u needs a user list", 2);
            break;
          }
          if (!letter(*p, nullptr)) return fail(std::string("invalid -W option '") + *p + "'", 2);
        }
        break;
      case '-':
        if (std::string(optarg) == "version") {
          std::cerr << "Version: " << REPRISE_VERSION << "\nCommit: reprise\n";
          return 0;
        }
        return fail("invalid option --" + std::string(optarg), 2);
      case ':': return fail(std::string("option -") + char(optopt) + " requires an argument", 2);
      default: return fail(std::string("invalid option -- '") + char(optopt) + "'", 2);
    }
  }
  // TORQUE's conflicts (its "qstat: conflicting options."), each said on one line.
  if (modes & (modes - 1)) return fail("conflicting options: only one of -a, -i, -r, -q", 2);
  if (full && alt && !(user.size() && !alt_opt.nodes && !alt_opt.comment && !alt_opt.srfs && !modes &&
                       alt_opt.unit == SizeUnit::kAsIs))
    return fail("conflicting options: -f with -a, -i, -r, -n, -s, -q, -R, -G or -M", 2);
  if (queue_alt && (full || queues || server)) return fail("conflicting options: -q with -f, -Q or -B", 2);
  if (server && (queues || alt)) return fail("conflicting options: -B with -Q or the alternative options", 2);
  if (queues && alt) return fail("conflicting options: -Q with the alternative options", 2);
  if (alt_opt.one_line && !alt_opt.nodes && !full) return fail("conflicting options: -1 needs -n or -f", 2);
  if (!format.empty() && !full) return fail("-F json needs -f", 2);
  if (xml) alt = full = false;  // -x: every attribute, as XML
  if (full) alt = false;         // -f -u: the full listing of those users' jobs
  if (queue_alt) {
    queues = true;
    alt = false;
  }
  std::vector<std::string> users = user.empty() ? std::vector<std::string>() : split(user, ',');
  Connection conn;
  std::string error;
  if (!conn.open(error)) return fail(error);
  int exit_code = 0;

  if (queues || server) {
    wire::Request req;
    req.set_op(queues ? "status_queue" : "status_server");
    for (int i = optind; i < argc; ++i) {
      std::string q = argv[i];
      if (queues) q = q.substr(0, q.find('@'));  // QUEUE@SERVER
      if (!q.empty()) req.add_ids(q);
    }
    wire::Response resp;
    if (!request(conn, req, resp, exit_code)) return exit_code;
    Objects objs(resp.objects().begin(), resp.objects().end());
    if (queue_alt) std::cout << format_queue_alt(objs, this_host(), alt_opt.unit);
    else if (!format.empty()) std::cout << format_json(objs, queues ? "Queue" : "Server", this_host());
    else if (full) std::cout << format_full(objs, queues ? "Queue" : "Server");
    else std::cout << (queues ? format_queue_table(objs) : format_server_table(objs));
    return 0;
  }

  // The default table (not -u: that is the alternative table) asks for its columns by position: the reply is plain
  // strings, not maps, and rows are formatted straight from it (docs/benchmarks.md, 10,000 jobs).
  const bool table = !full && !alt && !xml && format.empty();
  enum { kName, kOwner, kCput, kState, kQueue, kEuser, kColumns };
  static const char* const kTableColumns[kColumns] = {"Job_Name", "Job_Owner", "resources_used.cput",
                                                      "job_state", "queue", "euser"};
  const int columns = kEuser;  // -u is the alternative table, never this one
  google::protobuf::Arena arena;                           // the replies' many small strings
  std::vector<wire::Response*> replies;                    // the table's rows point into these
  std::vector<JobRow> rows;
  auto keep_rows = [&](const wire::Response& resp) {
    for (const auto& o : resp.objects()) {
      std::string_view v[kColumns];
      if (o.values_size() == columns) {
        for (int i = 0; i < columns; ++i) v[i] = o.values(i);
      } else {  // a server that does not know `positional` answers with attrs
        for (int i = 0; i < kColumns; ++i)
          if (auto it = o.attrs().find(kTableColumns[i]); it != o.attrs().end()) v[i] = it->second;
      }
      if (no_complete && v[kState] == "C") continue;
      rows.push_back({o.name(), v[kName], v[kOwner], v[kCput], v[kState], v[kQueue]});
    }
  };

  // The table's replies live on the arena (parsed there, never copied); others on the heap.
  std::vector<std::unique_ptr<wire::Response>> owned;
  auto fresh = [&]() -> wire::Response* {
    if (table) return google::protobuf::Arena::CreateMessage<wire::Response>(&arena);
    owned.push_back(std::make_unique<wire::Response>());
    return owned.back().get();
  };
  Objects jobs;
  auto keep = [&](wire::Response& resp) {
    if (table) {
      replies.push_back(&resp);
      return;
    }
    for (auto& o : *resp.mutable_objects()) {
      auto get = [&](const char* name) {
        auto it = o.attrs().find(name);
        return it == o.attrs().end() ? std::string() : it->second;
      };
      std::string st = get("job_state");
      if (!users.empty() && !owner_in(get("Job_Owner"), users)) continue;
      if (no_complete && st == "C") continue;
      if (running_only && st != "R" && st != "E") continue;
      if (idle_only && st != "Q" && st != "H" && st != "W") continue;
      jobs.push_back(std::move(o));
    }
  };
  // The tables need a few attributes; asking only for those keeps big listings fast.
  auto select = [&](wire::Request& req) {
    req.set_expand_arrays(expand_arrays);
    if (full || xml) return;
    if (table) {
      for (int i = 0; i < columns; ++i) req.add_select(kTableColumns[i]);
      req.set_positional(true);
      return;
    }
    for (const char* a : {"Job_Name", "Job_Owner", "euser", "job_state", "queue", "server", "resources_used.cput",
                          "resources_used.walltime", "Resource_List.nodes", "Resource_List.nodect",
                          "Resource_List.mem", "Resource_List.vmem", "Resource_List.pmem", "Resource_List.pvmem",
                          "Resource_List.dmem", "Resource_List.walltime", "Resource_List.cput", "Resource_List.procs",
                          "Resource_List.ncpus", "Resource_List.srfs_big", "Resource_List.srfs_fast",
                          "Resource_List.piofs", "comment", "session_id", "start_time", "exec_host"})
      req.add_select(a);
  };
  if (optind == argc) {
    wire::Request req;
    req.set_op("status_job");
    select(req);
    wire::Response* resp = fresh();
    if (!request(conn, req, *resp, exit_code)) return exit_code;
    keep(*resp);
  } else {
    for (int i = optind; i < argc; ++i) {
      wire::Request req;
      req.set_op("status_job");
      select(req);
      std::string id = argv[i];
      // "qstat QUEUE" (a name, not a job id) lists that queue's jobs.
      if (!id.empty() && !isdigit(static_cast<unsigned char>(id[0]))) {
        req.set_arg(id.substr(0, id.find('@')));
      } else {
        req.add_ids(id);
      }
      wire::Response* resp = fresh();
      int code = 0;
      if (!request(conn, req, *resp, code)) {
        exit_code = code;
        continue;
      }
      keep(*resp);
    }
  }
  if (table) {
    for (const wire::Response* resp : replies) keep_rows(*resp);
    std::string out = format_job_rows(rows);
    // One write(2) for the whole table (stdio would cut it into buffer-sized pieces).
    std::fflush(stdout);
    for (size_t done = 0; done < out.size();) {
      ssize_t w = ::write(1, out.data() + done, out.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return fail(std::string("write error: ") + std::strerror(errno));
      done += size_t(w);
    }
    return exit_code;
  }
  if (xml) {
    std::cout << format_xml(jobs);
    return exit_code;
  }
  std::string server_name = this_host(), server_comment;
  if (!jobs.empty() && jobs[0].attrs().count("server")) server_name = jobs[0].attrs().at("server");
  if (alt && !jobs.empty()) {  // the header names the server and shows its comment, as TORQUE's
    wire::Request req;
    req.set_op("status_server");
    wire::Response resp;
    int ignored = 0;
    if (request(conn, req, resp, ignored) && resp.objects_size() == 1) {
      server_name = resp.objects(0).name();
      if (auto it = resp.objects(0).attrs().find("comment"); it != resp.objects(0).attrs().end())
        server_comment = it->second;
    }
  }
  if (!format.empty()) std::cout << format_json(jobs, "Jobs", server_name);
  else if (full) std::cout << format_full(jobs, "Job Id");
  else if (alt) std::cout << format_job_alt(jobs, server_name, server_comment, alt_opt);
  else std::cout << format_job_table(jobs);
  return exit_code;
}
