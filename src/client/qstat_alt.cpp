// qstat's alternative table (-a, -u, -n, -1, -s, -R, -G, -M), queue summary (-q) and XML (-x),
// as TORQUE 6's qstat.c prints them (altdsp_statjob, altdsp_statque, create_full_job_xml).
#include <cstdio>
#include <cstdlib>

#include "client/qstat_format.h"
#include "common/resources.h"
#include "common/text_util.h"

namespace reprise::client {

namespace {

const std::string kBlank = " -- ";  // TORQUE's blank for an unset column

std::string get(const wire::Object& o, const std::string& name, const std::string& fallback = kBlank) {
  auto it = o.attrs().find(name);
  return it == o.attrs().end() || it->second.empty() ? fallback : it->second;
}

// TORQUE's get_tasks_from_nodes_resc: the sum over '+' parts of count (1 when not a number) times ppn.
long tasks_of_nodes(const std::string& nodes) {
  long total = 0;
  for (const std::string& part : split(nodes, '+')) {
    std::vector<std::string> fields = split(part, ':');
    long count = 0, ppn = 0;
    if (fields.empty() || !parse_int(fields[0], count) || count <= 0) count = 1;
    for (size_t i = 1; i < fields.size() && !ppn; ++i)
      if (fields[i].rfind("ppn=", 0) == 0 && (!parse_int(fields[i].substr(4), ppn) || ppn <= 0)) ppn = 1;
    total += count * (ppn ? ppn : 1);
  }
  return total;
}

std::string elapsed_of(const wire::Object& j) {
  std::string st = get(j, "job_state", "");
  if (st == "Q" || st == "C" || st == "H" || st.empty()) return kBlank;
  std::string used = get(j, "resources_used.walltime", "");
  if (!used.empty()) return used;
  long start = 0;
  if (parse_int(get(j, "start_time", ""), start) && start) return format_duration(now_seconds() - start);
  return "00:00:00";
}

}  // namespace

std::string convert_size(const std::string& value, SizeUnit unit) {
  if (unit == SizeUnit::kAsIs) return value;
  static const int shift[2][5] = {{-23, -13, -3, 7, 17}, {-30, -20, -10, 0, 10}};  // mw, gb
  char* end = nullptr;
  unsigned long n = std::strtoul(value.c_str(), &end, 10);
  int in = *end == 'k' ? 1 : *end == 'm' ? 2 : *end == 'g' ? 3 : *end == 't' ? 4 : 0;
  if (*end == 'w' || (*end && end[1] == 'w')) n <<= 3;  // words of 8 bytes
  int s = shift[unit == SizeUnit::kMw ? 0 : 1][in];
  n = s < 0 ? (n + ((1ul << -s) - 1)) >> -s : n << s;
  return std::to_string(n) + (unit == SizeUnit::kMw ? "mw" : "gb");
}

std::string format_exec_hosts(const std::string& hosts, bool one_line) {
  const size_t width = one_line ? 65536 : 77;
  std::string out, buf;
  size_t i = 0;
  // Each node name up to its '.' (or '+'), then everything to the next '+' dropped.
  while (i < hosts.size()) {
    size_t stop = hosts.find_first_of(".+", i == 0 || hosts[i] != '+' ? i : i + 1);
    if (stop == std::string::npos) stop = hosts.size();
    std::string piece = hosts.substr(i, stop - i);
    if (buf.size() + piece.size() >= width && !buf.empty()) {
      out += "   " + buf + "\n";
      buf.clear();
    }
    buf += piece;
    size_t next = hosts.find('+', stop);
    i = next == std::string::npos ? hosts.size() : next;
  }
  if (!buf.empty()) out += "   " + buf + "\n";
  return out;
}

std::string format_job_alt(const Objects& jobs, const std::string& server, const std::string& server_comment,
                           const AltOptions& opt) {
  if (jobs.empty()) return "";
  std::string out = "\n" + server + ": " + server_comment;
  if (opt.srfs) {
    out += "\n                                                          Req'd     Req'd       Elap";
    out += "\nJob ID                  Username    Queue    NDS   TSK    Memory    Time      S Time       BIG  FAST   PFS";
    out += "\n----   ---------------- ----------- -------- ----- ------ --------- --------- - --------- ----- ----- -----\n";
  } else {
    out += "\n                                                                                  Req'd       Req'd       Elap";
    out += "\nJob ID                  Username    Queue    Jobname          SessID  NDS   TSK   Memory      Time    S   Time";
    out += "\n----------------------- ----------- -------- ---------------- ------ ----- ------ --------- --------- - ---------\n";
  }
  for (const auto& j : jobs) {
    std::string owner = get(j, "Job_Owner", "");
    std::string tasks = kBlank;
    if (long t = tasks_of_nodes(get(j, "Resource_List.nodes", "")); j.attrs().count("Resource_List.nodes") && t > 0)
      tasks = std::to_string(t);
    else if (get(j, "Resource_List.procs", "0") != "0") tasks = get(j, "Resource_List.procs");
    else if (get(j, "Resource_List.ncpus", "0") != "0") tasks = get(j, "Resource_List.ncpus");
    std::string mem = kBlank;
    for (const char* r : {"Resource_List.mem", "Resource_List.vmem", "Resource_List.pmem", "Resource_List.pvmem",
                          "Resource_List.dmem"})
      if (std::string v = get(j, r, ""); !v.empty()) {
        mem = convert_size(v, opt.unit);
        break;
      }
    bool use_cput = !get(j, "Resource_List.cput", "").empty();
    std::string req_time = use_cput ? get(j, "Resource_List.cput") : get(j, "Resource_List.walltime");
    std::string elapsed = use_cput ? get(j, "resources_used.cput") : elapsed_of(j);
    out += printf_line("%-23.22s %-11.11s %-8.8s ", j.name().c_str(), owner.substr(0, owner.find('@')).c_str(),
                get(j, "queue", "").c_str());
    if (opt.srfs) {
      auto srfs = [&](const char* r) { std::string v = get(j, r, ""); return v.empty() ? kBlank : convert_size(v, opt.unit); };
      out += printf_line("%5.5s %6.6s %9.9s %9.9s %1.1s %9.9s %5.5s %5.5s %5.5s", get(j, "Resource_List.nodect").c_str(),
                  tasks.c_str(), mem.c_str(), req_time.c_str(), get(j, "job_state").c_str(), elapsed.c_str(),
                  srfs("Resource_List.srfs_big").c_str(), srfs("Resource_List.srfs_fast").c_str(),
                  srfs("Resource_List.piofs").c_str());
    } else {
      out += printf_line("%-16.16s %6.6s %5.5s %6.6s %9.9s %9.9s %1.1s %9.9s", get(j, "Job_Name", "").c_str(),
                  get(j, "session_id").c_str(), get(j, "Resource_List.nodect").c_str(), tasks.c_str(), mem.c_str(),
                  req_time.c_str(), get(j, "job_state").c_str(), elapsed.c_str());
    }
    if (!opt.one_line) out += "\n";
    if (opt.nodes) out += format_exec_hosts(get(j, "exec_host"), opt.one_line);
    else if (opt.one_line) out += "\n";
    if (opt.comment) out += "   " + get(j, "comment") + "\n";
  }
  return out;
}

std::string format_queue_alt(const Objects& queues, const std::string& server, SizeUnit unit) {
  std::string out = "\nserver: " + server + "\n\n";
  out += "Queue            Memory CPU Time Walltime Node  Run Que Lm  State\n";
  out += "---------------- ------ -------- -------- ----  --- --- --  -----\n";
  long total_run = 0, total_queued = 0;
  for (const auto& q : queues) {
    long run = 0, queued = 0;
    for (const std::string& item : split(get(q, "state_count", ""), ' ')) {
      auto colon = item.find(':');
      long v = 0;
      if (colon == std::string::npos || !parse_int(item.substr(colon + 1), v)) continue;
      std::string state = item.substr(0, colon);
      if (state == "Running") run += v;
      else if (state == "Queued" || state == "Held" || state == "Waiting") queued += v;
    }
    total_run += run;
    total_queued += queued;
    std::string mem = get(q, "resources_max.mem", "");
    bool enabled = false, started = false;
    parse_bool(get(q, "enabled", "False"), enabled);
    parse_bool(get(q, "started", "False"), started);
    out += printf_line("%-16.16s %6.6s %8.8s %8.8s %5.5s ", q.name().c_str(),
                mem.empty() ? "--  " : convert_size(mem, unit).c_str(), get(q, "resources_max.cput", "--   ").c_str(),
                get(q, "resources_max.walltime", "--   ").c_str(), get(q, "resources_max.nodect", "-- ").c_str());
    out += printf_line("%3ld %3ld %2.2s   %c %c\n", run, queued, get(q, "max_running", "--   ").c_str(), enabled ? 'E' : 'D',
                started ? 'R' : 'S');
  }
  out += "                                               ----- -----\n";
  out += printf_line("                                               %5ld %5ld\n", total_run, total_queued);
  return out;
}

namespace {

std::string xml_text(const std::string& bytes) {
  std::string out;
  for (char ch : json_safe(bytes)) {
    if (ch == '&') out += "&amp;";
    else if (ch == '<') out += "&lt;";
    else if (ch == '>') out += "&gt;";
    else out += ch;
  }
  return out;
}

}  // namespace

std::string format_xml(const Objects& jobs) {
  std::string out = "<?xml version=\"1.0\"?>\n<Data>";
  for (const auto& j : jobs) {
    out += "<Job><Job_Id>" + xml_text(j.name()) + "</Job_Id>";
    std::string group;  // the open <Resource_List> etc.
    for (const auto& [name, value] : ordered_attrs(j, true)) {
      auto dot = name.find('.');
      std::string head = dot == std::string::npos ? "" : name.substr(0, dot);
      if (head != group && !group.empty()) out += "</" + group + ">";
      if (head != group && !head.empty()) out += "<" + head + ">";
      group = head;
      std::string tag = head.empty() ? name : name.substr(dot + 1);
      out += "<" + tag + ">" + xml_text(value) + "</" + tag + ">";
    }
    if (!group.empty()) out += "</" + group + ">";
    out += "</Job>";
  }
  return out + "</Data>\n";
}

bool owner_in(const std::string& owner, const std::vector<std::string>& users) {
  std::string user = owner.substr(0, owner.find('@'));
  for (const std::string& u : users)
    if (u == (u.find('@') == std::string::npos ? user : owner)) return true;
  return false;
}

}  // namespace reprise::client
