#include "server/policy.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cctype>

#include "common/resources.h"
#include "common/text_util.h"
#include "server/feasibility.h"
#include "server/route_queue.h"
#include "server/server.h"

namespace reprise::server {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return s;
}

// TORQUE's host patterns: "*", a name, or "*.domain" (any case).
bool host_matches(const std::string& pattern, const std::string& host) {
  std::string p = lower(pattern), h = lower(host);
  if (p == "*" || p == h) return true;
  if (starts_with(p, "*.")) return h.size() > p.size() - 1 && h.compare(h.size() - (p.size() - 1), std::string::npos, p.substr(1)) == 0;
  return false;
}

std::vector<std::string> entries(const Attrs& a, const std::string& name) {
  std::vector<std::string> out;
  for (const std::string& e : split(attr_or(a, name, ""), ',')) {
    std::string t = trim(e);
    if (!t.empty() && (t[0] == '+' || t[0] == '-')) t = t.substr(1);  // TORQUE's list edit marks
    if (!t.empty()) out.push_back(t);
  }
  return out;
}

// acl_users entries: "user", "user@host", "*@host" (host patterns as above).
bool user_allowed(const Attrs& a, const Submitter& who) {
  for (const std::string& e : entries(a, "acl_users")) {
    auto at = e.find('@');
    std::string u = e.substr(0, at), h = at == std::string::npos ? "*" : e.substr(at + 1);
    if ((u == "*" || u == who.user) && host_matches(h, who.host)) return true;
  }
  return false;
}

bool group_allowed(const Attrs& a, const Submitter& who) {
  for (const std::string& e : entries(a, "acl_groups"))
    if (std::find(who.groups.begin(), who.groups.end(), e) != who.groups.end()) return true;
  return false;
}

bool host_allowed(const Attrs& a, const Submitter& who) {
  for (const std::string& e : entries(a, "acl_hosts"))
    if (host_matches(e, who.host)) return true;
  return false;
}

// The ACLs of one object (a queue, or the server). `where` is "queue NAME" or "server".
bool check_acls(const Attrs& a, const std::string& where, const Submitter& who, const std::string& owner,
                int& code, std::string& message) {
  bool user_on = is_true(attr_or(a, "acl_user_enable", "False"));
  bool group_on = is_true(attr_or(a, "acl_group_enable", "False"));
  bool user_ok = !user_on || user_allowed(a, who);
  bool group_ok = !group_on || group_allowed(a, who);
  // acl_logic_or: either list admits the user (TORQUE's attribute; default both must).
  bool logic_or = is_true(attr_or(a, "acl_logic_or", "False"));
  bool pass = logic_or && user_on && group_on ? (user_ok || group_ok) : (user_ok && group_ok);
  if (!pass) {
    code = kErrPermission;
    std::string which = !user_ok && !group_ok ? "both user and group ACL rejected the submitting user"
                        : !user_ok            ? "user ACL rejected the submitting user"
                                              : "group ACL is not satisfied";
    message = "Unauthorized Request  MSG=" + which + ": user " + owner + ", " + where + " (" +
              (!user_ok ? "acl_users" : "acl_groups") + ")";
    return false;
  }
  if (is_true(attr_or(a, "acl_host_enable", "False")) && !host_allowed(a, who)) {
    code = kErrBadHost;
    message = "Access from host not allowed, or unknown host MSG=host ACL rejected the submitting host: user " +
              owner + ", " + where + ", host " + who.host + " (acl_hosts)";
    return false;
  }
  return true;
}

bool disallowed(const Attrs& q, const std::string& type) {
  for (const std::string& t : entries(q, "disallowed_types"))
    if (t == type) return true;
  return false;
}

bool check_types(const Queue& q, const Job& job, const std::string& owner, int& code, std::string& message) {
  std::string tail = ": user " + owner + ", queue " + q.name + " (disallowed_types)";
  bool rerunable = true, fault_tolerant = false, b;
  if (parse_bool(job.attr("Rerunable"), b)) rerunable = b;
  if (parse_bool(job.attr("fault_tolerant"), b)) fault_tolerant = b;
  struct Rule {
    const char* type;
    bool applies;
    int code;
    const char* text;
  };
  const Rule rules[] = {
      // Every job here is a batch job (qsub -I is refused by the client).
      {"batch", true, kErrNoBatch, "Queue does not allow batch jobs MSG=batch job is not allowed for queue"},
      {"rerunable", rerunable, kErrNoRerunable, "Queue does not allow rerunable jobs MSG=rerunable job is not allowed for queue"},
      {"nonrerunable", !rerunable, kErrNoNonRerunable,
       "Queue does not allow nonrerunable jobs MSG=only rerunable jobs are allowed for queue"},
      {"fault_tolerant", fault_tolerant, kErrNoFaultTolerant,
       "Queue does not allow fault tolerant jobs MSG=fault_tolerant jobs are not allowed for queue"},
      {"fault_intolerant", !fault_tolerant, kErrNoFaultIntolerant,
       "Queue does not allow fault intolerant jobs MSG=only fault_tolerant jobs are allowed for queue"},
      {"job_array", !job.attr("job_array_request").empty(), kErrNoJobArrays,
       "Queue does not allow job arrays MSG=job arrays are not allowed for queue"},
  };
  for (const Rule& r : rules)
    if (r.applies && disallowed(q.attrs, r.type)) {
      code = r.code;
      message = std::string(r.text) + tail;
      return false;
    }
  return true;
}

// A resource value as numbers to compare: one for sizes, durations and counts; two for
// nodes (node count, processors). False when the resource is not ordered (arch, software).
bool measure(const std::string& name, const std::string& value, std::vector<double>& out) {
  out.clear();
  long l;
  uint64_t b;
  if (name == "walltime" || name == "cput" || name == "pcput") {
    if (!parse_duration(value, l)) return false;
    out = {double(l)};
  } else if (name == "mem" || name == "vmem" || name == "pmem" || name == "pvmem" || name == "file") {
    if (!parse_size(value, b)) return false;
    out = {double(b)};
  } else if (name == "ncpus" || name == "procs" || name == "nodect" || name == "ppn" || name == "nice") {
    if (!parse_int(value, l)) return false;
    out = {double(l)};
  } else if (name == "nodes") {
    std::vector<NodeSpecPart> parts;
    std::string why;
    if (!parse_node_spec(value, parts, why)) return false;
    double nodes = 0, procs = 0;
    for (const auto& p : parts) {
      nodes += p.count;
      procs += double(p.count) * p.ppn;
    }
    out = {nodes, procs};
  } else {
    return false;
  }
  return true;
}

// -1: job below the limit in some measure, 1: above, 0: within.
int compare(const std::vector<double>& job, const std::vector<double>& limit, bool max) {
  for (size_t i = 0; i < job.size() && i < limit.size(); ++i) {
    if (max && job[i] > limit[i]) return 1;
    if (!max && job[i] < limit[i]) return -1;
  }
  return 0;
}

bool check_resources(const ServerState& st, const Queue& q, const Job& job, int& code, std::string& message) {
  for (const auto& [attr, value] : job.attrs) {
    if (!starts_with(attr, "Resource_List.")) continue;
    std::string res = attr.substr(14);
    std::vector<double> want, limit;
    if (!measure(res, value, want)) continue;
    for (bool max : {true, false}) {
      std::string key = std::string(max ? "resources_max." : "resources_min.") + res;
      // The queue's limit if it has one, else the server's (TORQUE's precedence).
      bool from_queue = q.attrs.count(key) > 0;
      std::string lim = from_queue ? q.attrs.at(key) : attr_or(st.attrs, key, "");
      if (lim.empty() || !measure(res, lim, limit)) continue;
      if (compare(want, limit, max) != 0) {
        code = kErrExceedsLimits;
        message = std::string("Job exceeds queue resource limits MSG=cannot satisfy ") +
                  (from_queue ? "queue" : "server") + (max ? " max " : " min ") + res + " requirement (" +
                  (from_queue ? "queue " + q.name + " " : std::string("server ")) + key + " = " + lim + ")";
        return false;
      }
    }
  }
  return true;
}

// `self`: the seq of a stored job being admitted elsewhere (routed), not counted; -1 for none.
long count_jobs(const ServerState& st, const std::string& queue, const std::string& user, long self) {
  long n = 0;
  for (const auto& [seq, j] : st.jobs) {
    if (j.state() == 'C' || seq == self) continue;
    if (!queue.empty() && j.attr("queue") != queue) continue;
    if (!user.empty() && j.attr("euser") != user) continue;
    ++n;
  }
  return n;
}

bool check_queuable(const ServerState& st, const Queue& q, const Submitter& who, const std::string& owner,
                    long self, int& code, std::string& message) {
  struct Limit {
    const Attrs* attrs;
    const char* name;
    bool per_user;
    bool queue;
  };
  const Limit limits[] = {{&q.attrs, "max_queuable", false, true}, {&q.attrs, "max_user_queuable", true, true},
                          {&st.attrs, "max_queuable", false, false}, {&st.attrs, "max_user_queuable", true, false}};
  for (const Limit& l : limits) {
    long max;
    if (!parse_int(attr_or(*l.attrs, l.name, ""), max)) continue;
    long have = count_jobs(st, l.queue ? q.name : "", l.per_user ? who.user : "", self);
    if (have < max) continue;
    code = l.per_user ? kErrMaxUserQueued : kErrMaxQueued;
    std::string where = l.queue ? "queue" : "server";
    message = std::string(l.per_user ? "Maximum number of jobs already in queue for user MSG=total number of current user's jobs exceeds the "
                                     : "Maximum number of jobs already in queue MSG=total number of jobs in queue exceeds the ") +
              where + " limit: user " + owner + ", queue " + q.name + " (" + where + " " + l.name + " = " +
              std::to_string(max) + ")";
    return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> groups_of(const std::string& user) {
  std::vector<std::string> out;
  passwd pw{}, *res = nullptr;
  char buf[4096];
  if (getpwnam_r(user.c_str(), &pw, buf, sizeof buf, &res) != 0 || !res) return out;
  int n = 64;
  std::vector<gid_t> gids(static_cast<size_t>(n));
  if (getgrouplist(user.c_str(), pw.pw_gid, gids.data(), &n) < 0) {
    gids.resize(size_t(n));
    if (getgrouplist(user.c_str(), pw.pw_gid, gids.data(), &n) < 0) return out;
  }
  gids.resize(size_t(n));
  for (gid_t g : gids) {
    struct group gr{}, *gres = nullptr;
    char gbuf[8192];
    if (getgrgid_r(g, &gr, gbuf, sizeof gbuf, &gres) == 0 && gres) out.push_back(gr.gr_name);
  }
  return out;
}

bool admit_job(const ServerState& st, const Queue& q, const Submitter& who, Job& job, int& code,
               std::string& message) {
  std::string owner = who.user + "@" + who.host;
  if (!check_acls(st.attrs, "server", who, owner, code, message)) return false;
  if (!check_acls(q.attrs, "queue " + q.name, who, owner, code, message)) return false;
  if (!check_types(q, job, owner, code, message)) return false;
  // Defaults: what the job asks for, else the queue's resources_default, else the server's.
  for (const Attrs* a : {&q.attrs, &st.attrs})
    for (const auto& [name, value] : *a)
      if (starts_with(name, "resources_default.")) {
        std::string r = "Resource_List." + name.substr(18);
        if (!job.attrs.count(r)) job.attrs[r] = value;
      }
  if (!check_resources(st, q, job, code, message)) return false;
  // A job no node could ever fit (not checked in a route queue: the job is only passing).
  if (!is_route_queue(q) && !nodes_could_fit(st, job)) {
    code = kErrExceedsLimits;
    message = std::string("Job exceeds queue resource limits MSG=") + kNoFeasibleNodes;
    return false;
  }
  auto stored = job.id.empty() ? st.jobs.end() : st.jobs.find(job.seq);
  long self = stored != st.jobs.end() && stored->second.id == job.id ? job.seq : -1;
  return check_queuable(st, q, who, owner, self, code, message);
}

void RunCounts::add(const Job& job) {
  ++server;
  ++queue[job.attr("queue")];
  ++user[job.attr("euser")];
  ++queue_user[{job.attr("queue"), job.attr("euser")}];
}

RunCounts RunCounts::of(const ServerState& st) {
  RunCounts c;
  for (long seq : st.running) c.add(st.jobs.at(seq));
  return c;
}

std::string run_limit_reached(const ServerState& st, const Job& job, const RunCounts& counts) {
  std::string qname = job.attr("queue"), user = job.attr("euser");
  auto q = st.queues.find(qname);
  static const Attrs none;
  const Attrs& qa = q == st.queues.end() ? none : q->second.attrs;
  auto count = [](const auto& map, const auto& key) {
    auto it = map.find(key);
    return it == map.end() ? 0L : it->second;
  };
  struct Limit {
    const Attrs* attrs;
    const char* name;
    long running;
    const char* text;  // TORQUE's pbs_sched wording
  };
  const Limit limits[] = {
      {&st.attrs, "max_running", counts.server, "Server job limit reached"},
      {&st.attrs, "max_user_run", count(counts.user, user), "User has reached server running job limit."},
      {&qa, "max_running", count(counts.queue, qname), "Queue job limit reached"},
      {&qa, "max_user_run", count(counts.queue_user, std::make_pair(qname, user)),
       "User has reached queue running job limit."},
  };
  for (const Limit& l : limits) {
    long max;
    if (!parse_int(attr_or(*l.attrs, l.name, ""), max) || l.running < max) continue;
    std::string where = l.attrs == &st.attrs ? "server" : "queue " + qname;
    return std::string("Not Running: ") + l.text + " (" + where + " " + l.name + " = " + std::to_string(max) + ")";
  }
  return "";
}

long job_queue_rank(const Job& job) {
  long rank = 0;
  auto it = job.attrs.find("queue_rank");
  return it != job.attrs.end() && parse_int(it->second, rank) ? rank : base_seq(job.seq);
}

std::vector<long> scheduling_order(const ServerState& st) {
  struct Key {
    long queue_prio, job_prio, rank, seq;
  };
  std::vector<Key> keys;
  keys.reserve(st.queued.size());
  std::map<std::string, long> queue_prio;
  for (const auto& [name, q] : st.queues) {
    long p = 0;
    parse_int(attr_or(q.attrs, "priority", "0"), p);
    queue_prio[name] = p;
  }
  for (long seq : st.queued) {
    const Job& j = st.jobs.at(seq);
    long jp = 0;
    parse_int(j.attr("Priority"), jp);
    auto it = queue_prio.find(j.attr("queue"));
    // A sub-job keeps its array's place.
    auto parent = is_subjob_key(seq) ? st.jobs.find(base_seq(seq)) : st.jobs.end();
    const Job& ranked = parent != st.jobs.end() ? parent->second : j;
    keys.push_back({it == queue_prio.end() ? 0 : it->second, jp, job_queue_rank(ranked), seq});
  }
  std::stable_sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) {
    if (a.queue_prio != b.queue_prio) return a.queue_prio > b.queue_prio;
    if (a.job_prio != b.job_prio) return a.job_prio > b.job_prio;
    if (a.rank != b.rank) return a.rank < b.rank;
    return false;  // stable: st.queued's FIFO order (array sub-jobs keep their array's place)
  });
  std::vector<long> order;
  order.reserve(keys.size());
  for (const Key& k : keys) order.push_back(k.seq);
  return order;
}

}  // namespace reprise::server
