#include "server/job_attrs.h"

#include <map>

#include "common/array_range.h"
#include "common/checkpoint_policy.h"
#include "common/names.h"
#include "common/resources.h"
#include "common/text_util.h"
#include "server/server.h"

namespace reprise::server {

namespace {

using Validator = bool (*)(const std::string&);

// Who may set an attribute (bit set of AttrSetter).
enum : unsigned {
  kBySubmit = 1u << 0,
  kByAlterQueued = 1u << 1,
  kByAlterRunning = 1u << 2,
  kByMom = 1u << 3,
  kByUser = kBySubmit | kByAlterQueued,
};

struct Rule {
  unsigned setters;
  Validator valid;
  bool private_ = false;  // read only by the owner, operators and managers
};

bool any(const std::string&) { return true; }
bool one_line(const std::string& v) { return v.size() <= 4096 && valid_one_line(v); }
bool is_bool(const std::string& v) {
  bool b;
  return parse_bool(v, b);
}
bool digits(const std::string& v) { return !v.empty() && v.size() <= 20 && v.find_first_not_of("0123456789") == std::string::npos; }
bool letters_of(const std::string& v, const char* allowed) {
  return !v.empty() && v.size() <= 8 && v.find_first_not_of(allowed) == std::string::npos;
}

// [host:]/path (the client makes paths absolute). The path is opened as the job's owner,
// so ".." is harmless there; control characters are not allowed.
bool output_path(const std::string& v) {
  std::string path = v;
  auto colon = v.find(':');
  if (colon != std::string::npos && v.find('/') > colon) {
    if (!valid_host_name(v.substr(0, colon))) return false;
    path = v.substr(colon + 1);
  }
  return !path.empty() && path[0] == '/' && one_line(path);
}
bool absolute_path(const std::string& v) { return !v.empty() && v[0] == '/' && one_line(v); }
// -S: path[@host][,path[@host]...]
bool shell_list(const std::string& v) {
  for (const std::string& item : split(v, ',')) {
    std::string path = item.substr(0, item.find('@'));
    if (!absolute_path(path)) return false;
    if (item.find('@') != std::string::npos && !valid_host_name(item.substr(item.find('@') + 1))) return false;
  }
  return !v.empty();
}
bool join_path(const std::string& v) { return v == "n" || v == "oe" || v == "eo"; }
bool keep_files(const std::string& v) { return letters_of(v, "noed"); }
bool mail_points(const std::string& v) { return v == "n" || v == "p" || letters_of(v, "abef"); }
// -W umask=: an octal mask.
bool umask_value(const std::string& v) { return !v.empty() && v.size() <= 4 && v.find_first_not_of("01234567") == std::string::npos; }
bool user_name(const std::string& v) { return valid_user_name(v); }
// -F: the script's arguments, one line.
bool job_arguments(const std::string& v) { return v.size() <= 4096 && valid_one_line(v); }
bool hold_types(const std::string& v) { return letters_of(v, "uosn"); }
bool priority(const std::string& v) {
  long p;
  return parse_int(v, p) && p >= -1024 && p <= 1023;
}
bool checkpoint(const std::string& v) { return valid_checkpoint_value(v); }
bool checkpoint_dir(const std::string& v) { return valid_absolute_path(v); }
bool checkpoint_name(const std::string& v) { return valid_file_name(v); }
// TORQUE's -a: [[[[CC]YY]MM]DD]hhmm[.SS], or seconds since the epoch.
bool execution_time(const std::string& v) {
  return !v.empty() && v.size() <= 20 && v.find_first_not_of("0123456789.") == std::string::npos;
}
bool queue_name(const std::string& v) { return valid_host_name(v); }
bool variable_list(const std::string& v) { return v.size() <= (1u << 20); }
bool job_name(const std::string& v) { return valid_job_name(v); }
// What a failing prologue asks for (src/mom/prologue.h).
bool prologue_verdict(const std::string& v) { return v == "requeue" || v == "hold"; }
bool array_request(const std::string& v) {
  ArrayRequest r;
  std::string error;
  return v.size() <= 4096 && parse_array_request(v, r, error);
}

const std::map<std::string, Rule>& table() {
  // submit_host, Job_Owner, euser, egroup, server, queue_type, exec_host, job_state and the
  // times are the server's own: nobody sets them from outside (submit_host and Job_Owner
  // come from the connection's authenticated identity).
  static const std::map<std::string, Rule> rules = {
      {"Job_Name", {kByUser, job_name}},
      {"Output_Path", {kByUser, output_path, true}},
      {"Error_Path", {kByUser, output_path, true}},
      {"Join_Path", {kByUser, join_path}},
      {"Variable_List", {kByUser, variable_list, true}},
      {"Hold_Types", {kByUser, hold_types}},  // which letters a requester may use: may_hold()
      {"init_work_dir", {kBySubmit, absolute_path, true}},
      {"depend", {kBySubmit, one_line}},       // parsed and resolved by submit
      {"Checkpoint", {kByUser, checkpoint}},
      {"Priority", {kByUser | kByAlterRunning, priority}},
      {"Rerunable", {kByUser, is_bool}},
      {"Keep_Files", {kByUser, keep_files}},
      {"Mail_Points", {kByUser, mail_points}},
      {"Mail_Users", {kByUser, one_line, true}},
      {"Shell_Path_List", {kBySubmit, shell_list, true}},
      {"queue", {kBySubmit, queue_name}},
      {"submit_args", {kBySubmit, any, true}},
      {"Account_Name", {kByUser, one_line, true}},
      {"checkpoint_dir", {kByUser, checkpoint_dir, true}},
      {"checkpoint_name", {kByUser | kByAlterRunning | kByMom, checkpoint_name, true}},
      {"checkpoint_time", {kByMom, digits}},
      {"Execution_Time", {kByUser, execution_time}},
      {"fault_tolerant", {kBySubmit, is_bool}},
      {"job_arguments", {kBySubmit, job_arguments, true}},  // qsub -F
      {"umask", {kBySubmit, umask_value}},                   // -W umask=
      {"group_list", {kBySubmit, user_name}},                // -W group_list= or -P user:group
      {"proxy_user", {kBySubmit, user_name}},                // -P: managers only (submit)
      {"x", {kBySubmit, one_line}},                          // -W x=: stored for the scheduler
      {"job_array_request", {kBySubmit, array_request}},  // qsub -t
      // What a mom reports about a job it runs.
      {"comment", {kByMom, one_line}},
      {"start_time", {kByMom, digits}},
      {"reprise_held", {kByMom, digits}},
      {"reprise_requeue", {kByMom, digits}},
      {"reprise_prologue", {kByMom, prologue_verdict}},
  };
  return rules;
}

unsigned bit(AttrSetter s) {
  switch (s) {
    case AttrSetter::kSubmit: return kBySubmit;
    case AttrSetter::kAlterQueued: return kByAlterQueued;
    case AttrSetter::kAlterRunning: return kByAlterRunning;
    case AttrSetter::kMomReport: return kByMom;
  }
  return 0;
}

}  // namespace

bool job_attr_public(const std::string& name) {
  if (starts_with(name, "_")) return false;
  auto it = table().find(name);
  return it == table().end() || !it->second.private_;
}

bool may_set_job_attr(const std::string& name, const std::string& value, AttrSetter setter, bool manager,
                      int& code, std::string& error) {
  code = kErrBadAttrValue;
  if (starts_with(name, "Resource_List.")) {
    if (setter == AttrSetter::kMomReport) {
      error = "a mom may not set " + name;
      return false;
    }
    if (setter == AttrSetter::kAlterRunning && !manager) {
      code = kErrBadState;
      error = "only managers may change resources of a running job";
      return false;
    }
    return validate_resource(name.substr(14), value, error);
  }
  if (starts_with(name, "resources_used.")) {
    if (setter != AttrSetter::kMomReport) {
      error = "Cannot set attribute " + name + " (it is measured by the mom)";
      return false;
    }
    if (!one_line(value) || value.size() > 64) {
      error = "Illegal attribute or resource value for " + name;
      return false;
    }
    return true;
  }
  auto it = table().find(name);
  if (it == table().end() || !(it->second.setters & bit(setter))) {
    bool known = it != table().end();
    if (setter == AttrSetter::kSubmit) error = (known ? "Cannot set attribute " : "Unknown attribute ") + name;
    else if (setter == AttrSetter::kAlterRunning && known && (it->second.setters & kByAlterQueued)) {
      code = kErrBadState;
      error = "job is running";
    } else if (setter == AttrSetter::kMomReport) error = "a mom may not set " + name;
    else error = "Cannot alter attribute " + name;
    return false;
  }
  if (!it->second.valid(value)) {
    error = "Illegal attribute or resource value for " + name;
    return false;
  }
  return true;
}

}  // namespace reprise::server
