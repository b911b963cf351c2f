#include "mom/job_record.h"

#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/attr_codec.h"
#include "common/resources.h"
#include "common/text_util.h"

namespace reprise::mom {

std::string record_path(const std::string& jobs_dir, const std::string& id, const char* ext) {
  return jobs_dir + "/" + id + ext;
}

bool save_record(const std::string& jobs_dir, const JobRecord& r, std::string& error) {
  storage::MomJobRecord m;
  m.set_id(r.id);
  put_attrs(r.attrs, *m.mutable_attrs());
  m.set_supervisor(r.supervisor);
  m.set_supervisor_start(r.supervisor_start);
  m.set_session(r.session);
  m.set_start_time(r.start_time);
  m.set_walltime_limit(r.walltime_limit);
  m.set_kill_deadline(r.kill_deadline);
  m.set_finished(r.finished);
  m.set_exit_status(r.exit_status);
  put_attrs(r.used, *m.mutable_used());
  // No fsync: the record must survive a mom crash (rename is atomic), and a machine crash
  // ends the job anyway.
  return write_file_atomic(record_path(jobs_dir, r.id, ".JB"), m.SerializeAsString(), 0600, error, false);
}

namespace {

// A record written before records became protobuf (JSON; an existing home still loads).
bool load_json_record(const std::string& text, JobRecord& r) {
  try {
    auto j = nlohmann::json::parse(text);
    r.id = j.at("id");
    r.attrs = j.at("attrs").get<std::map<std::string, std::string>>();
    r.supervisor = j.at("supervisor");
    r.supervisor_start = j.at("supervisor_start");
    r.session = j.at("session");
    r.start_time = j.at("start_time");
    r.walltime_limit = j.at("walltime_limit");
    r.kill_deadline = j.at("kill_deadline");
    r.finished = j.at("finished");
    r.exit_status = j.at("exit_status");
    r.used = j.at("used").get<std::map<std::string, std::string>>();
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace

bool load_record(const std::string& path, JobRecord& r) {
  std::string text;
  if (!read_file(path, text) || text.empty()) return false;
  // JSON starts with '{'; a MomJobRecord starts with the tag of field 1 (0x0a).
  if (text[0] == '{') return load_json_record(text, r);
  storage::MomJobRecord m;
  if (!m.ParseFromString(text) || m.id().empty()) return false;
  r.id = m.id();
  r.attrs = get_attrs(m.attrs());
  r.supervisor = pid_t(m.supervisor());
  r.supervisor_start = m.supervisor_start();
  r.session = pid_t(m.session());
  r.start_time = m.start_time();
  r.walltime_limit = m.walltime_limit();
  r.kill_deadline = m.kill_deadline();
  r.finished = m.finished();
  r.exit_status = m.exit_status();
  r.used = get_attrs(m.used());
  return true;
}

void remove_record(const std::string& jobs_dir, const std::string& id) {
  for (const char* ext : {".JB", ".SC", ".EX", ".PF", ".UD"}) ::unlink(record_path(jobs_dir, id, ext).c_str());
}

bool read_exit_file(const std::string& jobs_dir, JobRecord& r) {
  std::string text;
  if (!read_file(record_path(jobs_dir, r.id, ".EX"), text)) return false;
  std::istringstream in(text);
  long status = 0, cpu = 0, rss_kb = 0;
  if (!(in >> status >> cpu >> rss_kb)) return false;
  r.exit_status = int(status);
  r.used["resources_used.cput"] = format_duration(cpu);
  r.used["resources_used.mem"] = std::to_string(rss_kb) + "kb";
  r.used["resources_used.vmem"] = std::to_string(rss_kb) + "kb";
  return true;
}

unsigned long long process_start_time(pid_t pid) {
  std::string stat;
  if (!read_file("/proc/" + std::to_string(pid) + "/stat", stat)) return 0;
  auto close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  // Fields after the command: state is field 3; starttime is field 22.
  for (int i = 3; i <= 22; ++i)
    if (!(in >> field)) return 0;
  return std::stoull(field);
}

}  // namespace reprise::mom
