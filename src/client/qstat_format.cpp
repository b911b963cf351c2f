#include "client/qstat_format.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/resources.h"
#include "common/text_util.h"

namespace reprise::client {

namespace {

std::string get(const wire::Object& o, const std::string& name, const std::string& fallback = "") {
  auto it = o.attrs().find(name);
  return it == o.attrs().end() || it->second.empty() ? fallback : it->second;
}

std::string fit(const std::string& s, size_t width) { return s.size() > width ? s.substr(0, width) : s; }

bool is_time_attr(const std::string& name) {
  static const std::set<std::string> t = {"ctime", "mtime", "qtime", "etime", "start_time", "comp_time",
                                          "Execution_Time"};
  return t.count(name) > 0;
}

// The order TORQUE prints job attributes in; anything else follows alphabetically.
const std::vector<std::string>& job_attr_order() {
  static const std::vector<std::string> order = {
      "Job_Name", "Job_Owner", "resources_used.cput", "resources_used.mem", "resources_used.vmem",
      "resources_used.walltime", "job_state", "queue", "server", "Checkpoint", "ctime", "Error_Path",
      "exec_host", "Hold_Types", "Join_Path", "Keep_Files", "Mail_Points", "mtime", "Output_Path",
      "Priority", "qtime", "Rerunable"};
  return order;
}

}  // namespace

namespace {

// What printf's %s would print of it: up to the first NUL.
std::string_view c_str_view(std::string_view s) { return s.substr(0, s.find('\0')); }

// %-Ns of fit(s, width): cut to `width`, padded on the right.
void put_left(std::string& out, std::string_view s, size_t width, size_t cut) {
  s = c_str_view(s).substr(0, cut);
  out.append(s);
  if (s.size() < width) out.append(width - s.size(), ' ');
}

// %Ns: padded on the left, never cut.
void put_right(std::string& out, std::string_view s, size_t width) {
  s = c_str_view(s);
  if (s.size() < width) out.append(width - s.size(), ' ');
  out.append(s);
}

// One row as printf_line("%-25s %-16s %-15s %8s %1s %-5s\n", ...) printed it, byte for byte (including
// printf_line()'s 1023-byte cap), without printf's parsing for each of 10,000 rows.
void append_job_row(std::string& out, const JobRow& r) {
  size_t start = out.size();
  std::string_view user = r.owner.substr(0, r.owner.find('@'));
  put_left(out, r.id, 25, 25);
  out += ' ';
  put_left(out, r.name, 16, 16);
  out += ' ';
  put_left(out, user, 15, 15);
  out += ' ';
  put_right(out, r.cput.empty() ? std::string_view("0") : r.cput, 8);
  out += ' ';
  put_right(out, r.state.empty() ? std::string_view("?") : r.state, 1);
  out += ' ';
  put_left(out, r.queue, 5, std::string_view::npos);
  out += '\n';
  if (out.size() - start > 1023) out.resize(start + 1023);
}

std::string_view view(const wire::Object& o, const std::string& name) {
  auto it = o.attrs().find(name);
  return it == o.attrs().end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace

std::string format_job_rows(const std::vector<JobRow>& rows) {
  if (rows.empty()) return "";
  std::string out = "Job id                    Name             User            Time Use S Queue\n"
                    "------------------------- ---------------- --------------- -------- - -----\n";
  out.reserve(out.size() + rows.size() * 82);
  for (const auto& r : rows) append_job_row(out, r);
  return out;
}

std::string format_job_table(const Objects& jobs) {
  std::vector<JobRow> rows;
  rows.reserve(jobs.size());
  for (const auto& j : jobs)
    rows.push_back({j.name(), view(j, "Job_Name"), view(j, "Job_Owner"), view(j, "resources_used.cput"),
                    view(j, "job_state"), view(j, "queue")});
  return format_job_rows(rows);
}

std::vector<std::pair<std::string, std::string>> ordered_attrs(const wire::Object& o, bool job) {
  std::map<std::string, std::string> attrs(o.attrs().begin(), o.attrs().end());
  std::vector<std::pair<std::string, std::string>> out;
  if (job)
    for (const auto& n : job_attr_order())
      if (auto it = attrs.find(n); it != attrs.end()) {
        out.emplace_back(n, it->second);
        attrs.erase(it);
      }
  for (auto& [n, v] : attrs) out.emplace_back(n, v);
  return out;
}

std::string format_full(const Objects& objs, const std::string& label) {
  std::string out;
  for (const auto& o : objs) {
    out += label + ": " + o.name() + "\n";
    for (auto [n, v] : ordered_attrs(o, label == "Job Id")) {
      long t;
      if (is_time_attr(n) && parse_int(v, t)) v = format_ctime(t);
      out += "    " + n + " = " + v + "\n";
    }
    out += "\n";
  }
  return out;
}

namespace {

// Length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlongs, surrogates or values
// above U+10FFFF), 0 if there is none.
size_t utf8_sequence(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return k < s.size() ? static_cast<unsigned char>(s[k]) : 0u; };
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xbf) { return at(k) >= lo && at(k) <= hi; };
  unsigned c = at(i);
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    unsigned lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    unsigned lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    return cont(i + 1, lo, hi) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

}  // namespace

std::string json_safe(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    if (size_t n = utf8_sequence(bytes, i)) {
      out.append(bytes.substr(i, n));
      i += n;
      continue;
    }
    static const char hex[] = "0123456789abcdef";
    unsigned char c = static_cast<unsigned char>(bytes[i++]);
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string format_json(const Objects& objs, const std::string& section, const std::string& server) {
  nlohmann::ordered_json root;
  root["timestamp"] = now_seconds();
  root["pbs_version"] = "reprise-0.1";
  root["pbs_server"] = json_safe(server);
  nlohmann::ordered_json items = nlohmann::ordered_json::object();
  for (const auto& o : objs) {
    nlohmann::ordered_json item = nlohmann::ordered_json::object();
    std::map<std::string, std::string> attrs(o.attrs().begin(), o.attrs().end());
    for (const auto& [n, v] : attrs) {
      auto dot = n.find('.');
      if (dot == std::string::npos) item[json_safe(n)] = json_safe(v);
      else item[json_safe(n.substr(0, dot))][json_safe(n.substr(dot + 1))] = json_safe(v);  // Resource_List.walltime -> nested
    }
    items[json_safe(o.name())] = item;
  }
  root[section] = items;
  return root.dump(4) + "\n";
}

std::string format_queue_table(const Objects& queues) {
  std::string out = "Queue              Max    Tot   Ena   Str   Que   Run   Hld   Wat   Trn   Ext T   Cpt\n"
                    "----------------   ---   ----    --    --   ---   ---   ---   ---   ---   --- -   ---\n";
  for (const auto& q : queues) {
    std::map<std::string, int> count;
    for (const auto& item : split(get(q, "state_count"), ' ')) {
      auto colon = item.find(':');
      long v = 0;
      if (colon != std::string::npos && parse_int(item.substr(colon + 1), v)) count[item.substr(0, colon)] = int(v);
    }
    bool b = false;
    parse_bool(get(q, "enabled", "False"), b);
    std::string ena = b ? "yes" : "no";
    b = false;
    parse_bool(get(q, "started", "False"), b);
    std::string str = b ? "yes" : "no";
    out += printf_line("%-16s %5s %6s %5s %5s %5d %5d %5d %5d %5d %5d %1s %5d\n", fit(q.name(), 16).c_str(),
                get(q, "max_running", "0").c_str(), get(q, "total_jobs", "0").c_str(), ena.c_str(), str.c_str(),
                count["Queued"], count["Running"], count["Held"], count["Waiting"], count["Transit"], count["Exiting"],
                get(q, "queue_type", "E").substr(0, 1).c_str(), count["Complete"]);
  }
  return out;
}

std::string format_server_table(const Objects& servers) {
  std::string out = "Server             Max   Tot   Que   Run   Hld   Wat   Trn   Ext Status\n"
                    "----------------   ---   ---   ---   ---   ---   ---   ---   --- ----------\n";
  for (const auto& s : servers) {
    std::map<std::string, int> count;
    for (const auto& item : split(get(s, "state_count"), ' ')) {
      auto colon = item.find(':');
      long v = 0;
      if (colon != std::string::npos && parse_int(item.substr(colon + 1), v)) count[item.substr(0, colon)] = int(v);
    }
    out += printf_line("%-16s %5s %5s %5d %5d %5d %5d %5d %5d %-10s\n", fit(s.name(), 16).c_str(),
                get(s, "max_running", "0").c_str(), get(s, "total_jobs", "0").c_str(), count["Queued"],
                count["Running"], count["Held"], count["Waiting"], count["Transit"], count["Exiting"],
                get(s, "server_state", "Active").c_str());
  }
  return out;
}

}  // namespace reprise::client
