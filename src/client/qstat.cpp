// qstat [-f [-F json]] [-a] [-n [-1]] [-u USER] [-r|-i] [-t] [JOB_ID...]  |  -Q [-f] [QUEUE...]  |  -B [-f]
#include <getopt.h>
#include <google/protobuf/arena.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
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
  bool full = false, alt = false, nodes = false, one = false, queues = false, server = false;
  bool running_only = false, idle_only = false, expand_arrays = false;
  std::string format, user;
  int c;
  opterr = 0;
  while ((c = getopt(argc, argv, ":faen1QBF:u:rixt")) != -1) {
    switch (c) {
      case 'f': full = true; break;
      case 'a': alt = true; break;
      case 'e': break;
      case 't': expand_arrays = true; break;  // sub-jobs of arrays, not one line per array
      case 'x': full = true; break;
      case 'n': nodes = alt = true; break;
      case '1': one = true; break;
      case 'Q': queues = true; break;
      case 'B': server = true; break;
      case 'F':
        format = optarg;
        if (format != "json") return fail("unsupported -F format '" + format + "' (only json)", 2);
        break;
      case 'u': user = optarg; break;
      case 'r': running_only = alt = true; break;
      case 'i': idle_only = alt = true; break;
      case ':': return fail(std::string("option -") + char(optopt) + " requires an argument", 2);
      default: return fail(std::string("invalid option -- '") + char(optopt) + "'", 2);
    }
  }
  if (!format.empty() && !full) return fail("-F json needs -f", 2);
  Connection conn;
  std::string error;
  if (!conn.open(error)) return fail(error);
  int exit_code = 0;

  if (queues || server) {
    wire::Request req;
    req.set_op(queues ? "status_queue" : "status_server");
    for (int i = optind; i < argc; ++i) req.add_ids(argv[i]);
    wire::Response resp;
    if (!request(conn, req, resp, exit_code)) return exit_code;
    Objects objs(resp.objects().begin(), resp.objects().end());
    if (!format.empty()) std::cout << format_json(objs, queues ? "Queue" : "Server", this_host());
    else if (full) std::cout << format_full(objs, queues ? "Queue" : "Server");
    else std::cout << (queues ? format_queue_table(objs) : format_server_table(objs));
    return 0;
  }

  // The default table (also with -u) asks for its columns by position: the reply is plain
  // strings, not maps, and rows are formatted straight from it (docs/benchmarks.md, 10,000 jobs).
  const bool table = !full && !alt && format.empty();
  enum { kName, kOwner, kCput, kState, kQueue, kEuser, kColumns };
  static const char* const kTableColumns[kColumns] = {"Job_Name", "Job_Owner", "resources_used.cput",
                                                      "job_state", "queue", "euser"};
  const int columns = user.empty() ? kEuser : kColumns;  // euser only to filter -u
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
      if (!user.empty() && v[kEuser] != user) continue;
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
      if (!user.empty() && get("euser") != user) continue;
      if (running_only && st != "R" && st != "E") continue;
      if (idle_only && st != "Q" && st != "H" && st != "W") continue;
      jobs.push_back(std::move(o));
    }
  };
  // The tables need a few attributes; asking only for those keeps big listings fast.
  auto select = [&](wire::Request& req) {
    req.set_expand_arrays(expand_arrays);
    if (full) return;
    if (table) {
      for (int i = 0; i < columns; ++i) req.add_select(kTableColumns[i]);
      req.set_positional(true);
      return;
    }
    for (const char* a : {"Job_Name", "Job_Owner", "euser", "job_state", "queue", "server", "resources_used.cput",
                          "resources_used.walltime", "Resource_List.nodes", "Resource_List.nodect",
                          "Resource_List.mem", "Resource_List.walltime", "session_id", "start_time", "exec_host"})
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
  std::string server_name = this_host();
  if (!jobs.empty() && jobs[0].attrs().count("server")) server_name = jobs[0].attrs().at("server");
  if (!format.empty()) std::cout << format_json(jobs, "Jobs", server_name);
  else if (full) std::cout << format_full(jobs, "Job Id");
  else if (alt) std::cout << format_job_alt(jobs, server_name, nodes, one);
  else std::cout << format_job_table(jobs);
  return exit_code;
}
