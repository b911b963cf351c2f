// Job arrays: submit, lookup, bookkeeping, status, operations on a whole array or a range,
// and dependencies on arrays. See job_array.h.
#include "server/job_array.h"

#include "common/array_range.h"
#include "common/log.h"
#include "common/text_util.h"
#include "server/server.h"

namespace reprise::server {

namespace {

std::string state_count_text(const ArrayInfo& a) {
  auto n = [&](char c) {
    auto it = a.count.find(c);
    return std::to_string(it == a.count.end() ? 0 : it->second);
  };
  return "Queued:" + n('Q') + " Held:" + n('H') + " Running:" + n('R') + " Complete:" +
         std::to_string((a.count.count('K') ? a.count.at('K') : 0) + (a.count.count('F') ? a.count.at('F') : 0));
}

long count_of(const ArrayInfo& a, char c) {
  auto it = a.count.find(c);
  return it == a.count.end() ? 0 : it->second;
}

// The array's state as qstat shows it: running while any sub-job runs, queued while any
// waits, held while any is held, complete when all are.
char array_state(const ArrayInfo& a) {
  if (count_of(a, 'R')) return 'R';
  if (count_of(a, 'Q')) return 'Q';
  if (count_of(a, 'H')) return 'H';
  return 'C';
}

}  // namespace

bool ArraySchedulePass::skip(const Job& job) const {
  if (!is_subjob_key(job.seq)) return false;
  long seq = base_seq(job.seq);
  if (blocked_.count(seq)) return true;
  auto a = st_.arrays.find(seq);
  return a != st_.arrays.end() && a->second.slot_limit > 0 && count_of(a->second, 'R') >= a->second.slot_limit;
}

std::string Server::array_request_error(const Job& job) {
  auto it = job.attrs.find("job_array_request");
  if (it == job.attrs.end()) return "";
  ArrayRequest req;
  std::string error;
  if (!parse_array_request(it->second, req, error)) return error;
  long max = kMaxArraySize;
  parse_int(attr_or(st_.attrs, "max_job_array_size", std::to_string(kDefaultMaxArraySize)), max);
  if (long(req.indices.size()) > max)
    return "array request " + it->second + " has " + std::to_string(req.indices.size()) +
           " sub-jobs; max_job_array_size is " + std::to_string(max);
  return "";
}

wire::Response Server::submit_array(Job& proto, bool default_out, bool default_err, bool deps_ok) {
  ArrayRequest areq;
  std::string error;
  parse_array_request(proto.attr("job_array_request"), areq, error);  // checked by array_request_error
  const long seq = proto.seq;
  const std::string seq_text = std::to_string(seq);
  const std::string name = proto.attr("Job_Name");
  Job& parent = st_.jobs[seq];
  parent = proto;
  parent.id = seq_text + "[]." + st_.name;
  parent.attrs["_array"] = "1";
  parent.attrs["array_indices_submitted"] = format_array_range(areq.indices);
  ArrayInfo& info = st_.arrays[seq];
  info = ArrayInfo{};
  info.slot_limit = areq.slot_limit;
  const char start_state = proto.attr("Hold_Types") != "n" || !deps_ok ? 'H' : 'Q';
  Attrs sub_attrs = proto.attrs;
  sub_attrs.erase("job_array_request");
  sub_attrs["job_state"] = std::string(1, start_state);
  if (!deps_ok) sub_attrs["_depend_wait"] = "1";
  long position = 0;
  for (long index : areq.indices) {
    long key = subjob_key(seq, ++position);
    Job& sub = st_.jobs[key];
    sub.seq = key;
    sub.id = seq_text + "[" + std::to_string(index) + "]." + st_.name;
    sub.attrs = sub_attrs;
    std::string idx = std::to_string(index);
    sub.attrs["job_array_id"] = idx;
    sub.attrs["Job_Name"] = name + "-" + idx;
    if (default_out) sub.attrs["Output_Path"] += "-" + idx;
    if (default_err) sub.attrs["Error_Path"] += "-" + idx;
    info.subs[index] = key;
    if (start_state == 'Q') st_.queued.insert(key);
    if (!deps_ok) st_.waiting.insert(key);
  }
  parent.attrs["job_state"] = std::string(1, start_state);
  store_.save_job(parent);  // before the sub-jobs: their rows are deltas against it
  for (auto& [index, key] : info.subs) save(st_.jobs.at(key));
  store_.save_server(st_);
  wire::Response r;
  r.set_text(parent.id);
  return r;
}

Job* Server::find_array_job(const std::string& id) {
  // SEQ[INDEX][.SERVER] or SEQ[][.SERVER]; the suffix is checked by find_job's rules.
  size_t open = id.find('['), close = id.find(']');
  if (open == std::string::npos || close == std::string::npos || close < open) return nullptr;
  std::string seq_text = id.substr(0, open), index_text = id.substr(open + 1, close - open - 1);
  std::string rest = id.substr(close + 1);
  if (!rest.empty() && rest[0] != '.') return nullptr;
  Job* parent = find_job(seq_text + rest);
  if (!parent || !is_array_parent(*parent)) return nullptr;
  if (index_text.empty()) return parent;
  long index;
  if (index_text.size() > 9 || !parse_int(index_text, index)) return nullptr;
  const ArrayInfo& info = st_.arrays[parent->seq];
  auto it = info.subs.find(index);
  if (it == info.subs.end()) return nullptr;
  auto j = st_.jobs.find(it->second);
  return j == st_.jobs.end() ? nullptr : &j->second;
}

const std::string& Server::script_of(const Job& job) {
  if (!is_subjob_key(job.seq)) return job.script;
  auto p = st_.jobs.find(base_seq(job.seq));
  return p == st_.jobs.end() ? job.script : p->second.script;
}

void Server::save_subjob(Job& sub) {
  auto p = st_.jobs.find(base_seq(sub.seq));
  auto a = st_.arrays.find(base_seq(sub.seq));
  if (p == st_.jobs.end() || a == st_.arrays.end()) {
    store_.save_job(sub);  // cannot happen: arrays are removed with their sub-jobs
    return;
  }
  Job& parent = p->second;
  ArrayInfo& info = a->second;
  char cls = array_class_of(sub);
  if (cls != sub.array_class) {
    bool first_done = (cls == 'K' || cls == 'F') && count_of(info, cls) == 0;
    if (sub.array_class) --info.count[sub.array_class];
    ++info.count[cls];
    sub.array_class = cls;
    refresh_array(parent, info, first_done || count_of(info, 'Q') + count_of(info, 'H') == 0);
  }
  Job row;
  row.seq = sub.seq;
  row.id = sub.id;
  row.attrs = subjob_delta(parent.attrs, sub.attrs);
  store_.save_job(row);
}

void Server::refresh_array(Job& parent, const ArrayInfo& info, bool dependents_may_change) {
  parent.attrs["array_state_count"] = state_count_text(info);
  char state = array_state(info);
  if (state == parent.state() && !dependents_may_change) return;
  if (state != parent.state()) {
    parent.attrs["job_state"] = std::string(1, state);
    if (state == 'C') parent.attrs["comp_time"] = std::to_string(now_seconds());
    else parent.attrs.erase("comp_time");
    store_.save_job(parent);
  }
  release_dependents(parent);
}

void Server::rebuild_arrays() {
  st_.arrays.clear();
  for (auto& [seq, job] : st_.jobs) {
    if (is_subjob_key(seq)) break;  // sub-job keys sort after every parent
    if (!is_array_parent(job)) continue;
    ArrayRequest req;
    std::string error;
    parse_array_request(job.attr("job_array_request"), req, error);
    st_.arrays[seq].slot_limit = req.slot_limit;
  }
  std::vector<long> orphans;
  for (auto it = st_.jobs.lower_bound(kSubJobBit); it != st_.jobs.end(); ++it) {
    Job& sub = it->second;
    auto p = st_.jobs.find(base_seq(sub.seq));
    auto a = st_.arrays.find(base_seq(sub.seq));
    long index;
    if (p == st_.jobs.end() || a == st_.arrays.end() || !parse_int(sub.attr("job_array_id"), index)) {
      orphans.push_back(sub.seq);
      continue;
    }
    sub.attrs = subjob_attrs(p->second.attrs, sub.attrs);
    sub.array_class = array_class_of(sub);
    ++a->second.count[sub.array_class];
    a->second.subs[index] = sub.seq;
  }
  for (long key : orphans) {
    log_line("dropping sub-job row " + st_.jobs[key].id + ": its array is gone");
    store_.delete_job(key);
    st_.jobs.erase(key);
    st_.queued.erase(key);
    st_.running.erase(key);
    st_.waiting.erase(key);
  }
  for (auto& [seq, info] : st_.arrays) {
    Job& parent = st_.jobs.at(seq);
    parent.attrs["array_state_count"] = state_count_text(info);
    parent.attrs["job_state"] = std::string(1, array_state(info));
  }
}

void Server::purge_array(long seq) {
  auto a = st_.arrays.find(seq);
  if (a == st_.arrays.end()) return;
  for (const auto& [index, key] : a->second.subs) {
    store_.delete_job(key);
    st_.jobs.erase(key);
    st_.queued.erase(key);
    st_.running.erase(key);
    st_.waiting.erase(key);
  }
  st_.arrays.erase(a);
}

std::vector<Job*> Server::array_members(Job& parent, const std::string& range, std::string& error) {
  std::vector<Job*> out;
  const ArrayInfo& info = st_.arrays[parent.seq];
  if (range.empty()) {
    for (const auto& [index, key] : info.subs) out.push_back(&st_.jobs.at(key));
    return out;
  }
  std::vector<long> indices;
  if (!parse_array_range(range, indices, error)) return {};
  for (long index : indices) {
    auto it = info.subs.find(index);
    if (it == info.subs.end()) {
      error = "Unknown Job Id " + std::to_string(parent.seq) + "[" + std::to_string(index) + "]." + st_.name;
      return {};
    }
    out.push_back(&st_.jobs.at(it->second));
  }
  return out;
}

wire::Response Server::array_op(const Who& w, Job& parent, const wire::Request& req) {
  if (!is_array_parent(parent))
    return error_response(kErrBadAttrValue, "-t needs an array id (SEQ[]), not " + parent.id);
  if (parent.attr("euser") != w.user && !w.operator_)
    return error_response(kErrPermission, "Unauthorized Request  " + parent.id);
  std::string error;
  std::vector<Job*> members = array_members(parent, req.array_range(), error);
  if (!error.empty()) return error_response(error.rfind("Unknown Job Id", 0) == 0 ? kErrUnknownJob : kErrBadAttrValue, error);
  // A whole array (or range) skips sub-jobs whose state does not allow the request (qdel of an
  // array whose first sub-jobs have completed deletes the others), as TORQUE does.
  wire::Response first_error;
  size_t done = 0;
  for (Job* sub : members) {
    wire::Request one = req;
    one.clear_ids();
    one.add_ids(sub->id);
    one.clear_array_range();
    wire::Response r = job_op(w, one);
    if (r.code() == 0) ++done;
    else if (r.code() != kErrBadState) return r;
    else if (first_error.code() == 0) first_error = r;
  }
  if (done == 0 && first_error.code() != 0) return first_error;
  if (req.op() == "alter" && req.array_range().empty()) {
    // The summary line shows the change; sub-jobs' rows are deltas against the parent.
    for (const auto& [k, v] : req.attrs())
      if (k != "Hold_Types") parent.attrs[k] = v;
    store_.save_job(parent);
    for (Job* sub : members) save(*sub);
  }
  return {};
}

void Server::add_array_subjobs(const Who& w, Job& parent, const wire::Request& req, wire::Response& r) {
  std::string error;
  for (Job* sub : array_members(parent, req.array_range(), error)) add_job_object(r, *sub, req, w.operator_ || parent.attr("euser") == w.user);
  if (!error.empty()) {
    r.Clear();
    r.set_code(kErrUnknownJob);
    r.set_error(error);
  }
}

bool Server::array_dependency(const std::string& type, const Job& parent, bool& met, bool& failed) {
  auto a = st_.arrays.find(parent.seq);
  if (a == st_.arrays.end()) return true;  // purged: it was satisfied when it completed
  const ArrayInfo& info = a->second;
  long total = long(info.subs.size()), ok = count_of(info, 'K'), bad = count_of(info, 'F');
  bool all_done = ok + bad == total;
  std::string t = type;
  if (t.size() > 5 && t.compare(t.size() - 5, 5, "array") == 0) t.resize(t.size() - 5);
  if (t == "afterstart" || t == "after") {
    if (count_of(info, 'Q') + count_of(info, 'H') > 0) met = false;
  } else if (t == "afterok") {
    if (bad > 0) failed = true;
    else if (!all_done) met = false;
  } else if (t == "afternotok") {
    // At least one sub-job failed, once all have ended.
    if (!all_done) met = false;
    else if (bad == 0) failed = true;
  } else {  // afterany
    if (!all_done) met = false;
  }
  return true;
}

}  // namespace reprise::server
