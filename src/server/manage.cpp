// qmgr requests: create/delete/set/unset/list/print of the server, queues and nodes.
#include <algorithm>
#include <set>
#include <tuple>

#include "common/resources.h"
#include "common/text_util.h"
#include "common/torque_attributes.h"
#include "server/server.h"

namespace reprise::server {

namespace {

enum class Kind { kBool, kInt, kText, kList, kResource, kQueueType, kDuration };

// Attributes qmgr may set, and how their values are checked.
bool attribute_kind(const std::string& objtype, const std::string& name, Kind& kind) {
  static const std::map<std::string, Kind> server = {
      {"scheduling", Kind::kBool}, {"default_queue", Kind::kText}, {"managers", Kind::kList},
      {"operators", Kind::kList}, {"query_other_jobs", Kind::kBool}, {"keep_completed", Kind::kInt},
      {"acl_roots", Kind::kList}, {"kill_delay", Kind::kInt}, {"node_check_rate", Kind::kInt},
      {"node_fail_requeue", Kind::kInt}, {"tcp_timeout", Kind::kInt},
      {"max_job_array_size", Kind::kInt},
      {"comment", Kind::kText}, {"log_level", Kind::kInt}, {"mail_from", Kind::kText},
      {"allow_node_submit", Kind::kBool}, {"server_name", Kind::kText}, {"next_job_number", Kind::kInt},
      // Policy (policy.cpp).
      {"max_running", Kind::kInt}, {"max_user_run", Kind::kInt}, {"max_queuable", Kind::kInt},
      {"max_user_queuable", Kind::kInt}, {"acl_users", Kind::kList}, {"acl_user_enable", Kind::kBool},
      {"acl_groups", Kind::kList}, {"acl_group_enable", Kind::kBool}, {"acl_hosts", Kind::kList},
      {"acl_host_enable", Kind::kBool}, {"acl_logic_or", Kind::kBool},
      {"sendmail_path", Kind::kText}};  // mail.cpp
  static const std::map<std::string, Kind> queue = {
      {"queue_type", Kind::kQueueType}, {"enabled", Kind::kBool}, {"started", Kind::kBool},
      {"max_running", Kind::kInt}, {"max_queuable", Kind::kInt}, {"priority", Kind::kInt},
      {"checkpoint_dir", Kind::kText}, {"checkpoint_min", Kind::kInt},
      {"checkpoint_defaults", Kind::kText}, {"keep_completed", Kind::kInt},
      {"comment", Kind::kText}, {"acl_users", Kind::kList}, {"acl_user_enable", Kind::kBool},
      {"route_destinations", Kind::kList}, {"route_retry_time", Kind::kInt}, {"route_lifetime", Kind::kInt},
      {"route_held_jobs", Kind::kBool},  // route_queue.h
      // Policy (policy.cpp).
      {"max_user_run", Kind::kInt}, {"max_user_queuable", Kind::kInt}, {"acl_groups", Kind::kList},
      {"acl_group_enable", Kind::kBool}, {"acl_hosts", Kind::kList}, {"acl_host_enable", Kind::kBool},
      {"acl_logic_or", Kind::kBool}, {"disallowed_types", Kind::kList}};
  static const std::map<std::string, Kind> node = {
      {"np", Kind::kInt}, {"properties", Kind::kList}, {"note", Kind::kText}, {"ntype", Kind::kText}};
  if ((objtype == "queue" || objtype == "server") && (starts_with(name, "resources_default.") || starts_with(name, "resources_max.") ||
                             starts_with(name, "resources_min."))) {
    kind = Kind::kResource;
    return true;
  }
  const auto& table = objtype == "server" ? server : objtype == "queue" ? queue : node;
  auto it = table.find(name);
  if (it == table.end()) return false;
  kind = it->second;
  return true;
}

// Also TORQUE's attributes that Reprise stores without acting on them (torque_attributes.h),
// so a site's `print server` dump loads; `list` marks them.
bool accepted_kind(const std::string& objtype, const std::string& name, Kind& kind) {
  if (attribute_kind(objtype, name, kind)) return true;
  TorqueValue t;
  if (!torque_attribute_without_effect(objtype, name, t)) return false;
  kind = t == TorqueValue::kBool ? Kind::kBool : t == TorqueValue::kInt ? Kind::kInt
       : t == TorqueValue::kList ? Kind::kList : Kind::kText;
  return true;
}

bool check_value(Kind kind, const std::string& name, std::string& value, std::string& error) {
  bool b;
  long l;
  switch (kind) {
    case Kind::kBool:
      if (!parse_bool(value, b)) break;
      value = b ? "True" : "False";
      return true;
    case Kind::kInt:
      if (parse_int(value, l) && l >= 0) return true;
      break;
    case Kind::kQueueType:
      if (value == "e" || value == "E" || value == "Execution" || value == "execution") {
        value = "Execution";
        return true;
      }
      if (value == "r" || value == "R" || value == "Route" || value == "route") {
        value = "Route";
        return true;
      }
      error = "Illegal attribute or resource value for queue_type (Execution or Route)";
      return false;
    case Kind::kDuration:
      if (parse_duration(value, l)) return true;
      break;
    case Kind::kResource:
      return validate_resource(name.substr(name.find('.') + 1), value, error);
    case Kind::kText:
    case Kind::kList:
      if (value.find('\n') == std::string::npos) return true;
      break;
  }
  error = "Illegal attribute or resource value for " + name + " (" + value + ")";
  return false;
}

std::string list_edit(const std::string& current, const std::string& value, int op) {
  std::vector<std::string> items;
  for (const std::string& s : split(current, ','))
    if (!trim(s).empty()) items.push_back(trim(s));
  for (const std::string& raw : split(value, ',')) {
    std::string v = trim(raw);
    if (v.empty()) continue;
    auto at = std::find(items.begin(), items.end(), v);
    if (op == 1 && at == items.end()) items.push_back(v);
    if (op == 2 && at != items.end()) items.erase(at);
  }
  return join(items, ",");
}

}  // namespace

wire::Response Server::manage(const Who& w, const wire::Request& req) {
  const std::string& cmd = req.command();
  const std::string& type = req.objtype();
  const std::string& name = req.objname();
  if (type != "server" && type != "queue" && type != "node")
    return error_response(kErrBadRequest, "qmgr: unknown object type '" + type + "'");
  bool readonly = cmd == "list" || cmd == "print";
  if (!readonly && cmd != "create" && cmd != "delete" && cmd != "set" && cmd != "unset")
    return error_response(kErrBadRequest, "qmgr: unknown command '" + cmd + "'");
  if (!readonly && !w.manager)
    return error_response(kErrPermission, "Unauthorized Request  (" + cmd + " " + type + " needs manager privilege)");

  if (readonly) {
    wire::Request status;
    if (!name.empty()) status.add_ids(name);
    wire::Response r = type == "server" ? status_server() : type == "queue" ? status_queues(status) : status_nodes(status);
    // `list` says which stored attributes Reprise does not act on: "_no_effect" names them.
    for (auto& o : *r.mutable_objects()) {
      std::string none;
      for (const auto& [k, v] : o.attrs()) {
        Kind kind;
        if (!starts_with(k, "_") && !attribute_kind(type, k, kind) && accepted_kind(type, k, kind))
          none += (none.empty() ? "" : ",") + k;
      }
      if (!none.empty()) (*o.mutable_attrs())["_no_effect"] = none;
    }
    return r;
  }

  // Validate all operations before changing anything.
  std::vector<std::tuple<std::string, std::string, int>> ops;
  for (const auto& op : req.ops()) {
    Kind kind;
    if (!accepted_kind(type, op.name(), kind))
      return error_response(kErrBadAttrValue, "Unknown attribute " + op.name() + " for " + type);
    std::string value = op.value();
    std::string error;
    if (op.op() != 3 && !check_value(kind, op.name(), value, error)) return error_response(kErrBadAttrValue, error);
    if ((op.op() == 1 || op.op() == 2) && kind != Kind::kList && kind != Kind::kInt)
      return error_response(kErrBadAttrValue, "+= and -= apply to lists and numbers only (" + op.name() + ")");
    ops.emplace_back(op.name(), value, op.op());
  }
  auto apply = [&](Attrs& attrs) {
    for (auto& [attr, value, op] : ops) {
      if (cmd == "unset" || op == 3) {
        attrs.erase(attr);
        continue;
      }
      Kind kind;
      accepted_kind(type, attr, kind);
      if (op == 0) attrs[attr] = value;
      else if (kind == Kind::kList) attrs[attr] = list_edit(attrs[attr], value, op);
      else {
        long cur = 0, delta = 0;
        parse_int(attrs[attr], cur);
        parse_int(value, delta);
        attrs[attr] = std::to_string(op == 1 ? cur + delta : cur - delta);
      }
    }
  };

  if (type == "server") {
    if (cmd == "create" || cmd == "delete") return error_response(kErrBadRequest, "qmgr: cannot " + cmd + " the server");
    for (auto& [attr, value, op] : ops)
      if (attr == "default_queue" && cmd == "set" && !st_.queues.count(value))
        return error_response(kErrUnknownQueue, "Unknown queue " + value);
    // next_job_number (from a TORQUE dump): job ids continue from there, never reusing one.
    for (auto& [attr, value, op] : ops)
      if (attr == "next_job_number" && op == 0) {
        long next = 0;
        parse_int(value, next);
        if (!st_.jobs.empty() && next <= st_.jobs.rbegin()->first)
          return error_response(kErrBadAttrValue, "next_job_number must be above the highest job number in use (" +
                                                      std::to_string(st_.jobs.rbegin()->first) + ")");
        st_.next_seq = next;
      }
    apply(st_.attrs);
    st_.attrs.erase("next_job_number");  // computed from next_seq by status
    store_.save_server(st_);
    sched_wanted_ = true;
    return {};
  }
  if (name.empty()) return error_response(kErrBadRequest, "qmgr: a " + type + " name is required");
  if (name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != std::string::npos)
    return error_response(kErrBadAttrValue, "qmgr: illegal " + type + " name '" + name + "'");
  if (type == "queue") {
    auto it = st_.queues.find(name);
    if (cmd == "create") {
      if (it != st_.queues.end()) return error_response(kErrExists, "Queue " + name + " already exists");
      Queue q{name, {{"queue_type", "Execution"}, {"enabled", "False"}, {"started", "False"}}};
      apply(q.attrs);
      st_.queues[name] = q;
      store_.save_queue(q);
      return {};
    }
    if (it == st_.queues.end()) return error_response(kErrUnknownQueue, "Unknown queue " + name);
    if (cmd == "delete") {
      for (const auto& [seq, j] : st_.jobs)
        if (j.attr("queue") == name && j.state() != 'C')
          return error_response(kErrBadState, "Cannot delete queue " + name + ": it has jobs");
      st_.queues.erase(it);
      store_.delete_queue(name);
      return {};
    }
    apply(it->second.attrs);
    store_.save_queue(it->second);
    sched_wanted_ = true;
    return {};
  }
  auto it = st_.nodes.find(name);
  if (cmd == "create") {
    if (it != st_.nodes.end()) return error_response(kErrExists, "Node " + name + " already exists");
    Node n;
    n.name = name;
    n.attrs["np"] = "1";
    apply(n.attrs);
    st_.nodes[name] = n;
    store_.save_node(n);
    sched_wanted_ = true;
    return {};
  }
  if (it == st_.nodes.end()) return error_response(kErrUnknownNode, "Unknown node " + name);
  if (cmd == "delete") {
    for (const auto& [seq, j] : st_.jobs)
      if (j.state() == 'R' && j.attr("exec_host").find(name + "/") != std::string::npos)
        return error_response(kErrBadState, "Cannot delete node " + name + ": jobs are running on it");
    st_.nodes.erase(it);
    store_.delete_node(name);
    return {};
  }
  apply(it->second.attrs);
  store_.save_node(it->second);
  sched_wanted_ = true;
  return {};
}

}  // namespace reprise::server
