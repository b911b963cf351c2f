// The mom's durable record of one job: mom_priv/jobs/ID.JB (storage.proto's MomJobRecord,
// byte-exact; JSON records of older moms are still read), ID.SC (script) and, once the job
// ends, ID.EX written by the job's supervisor process.
#pragma once
#include <sys/types.h>

#include <map>
#include <string>

namespace reprise::mom {

struct JobRecord {
  std::string id;
  std::map<std::string, std::string> attrs;  // as the server sent them
  pid_t supervisor = 0;
  unsigned long long supervisor_start = 0;   // /proc starttime, guards against pid reuse
  pid_t session = 0;                         // the job's session (its shell's pid)
  long start_time = 0;
  long walltime_limit = 0;                   // seconds, 0 = none
  long kill_deadline = 0;                    // SIGKILL the session at this time if still alive
  bool finished = false;
  int exit_status = 0;
  std::map<std::string, std::string> used;   // resources_used.*, comment
  long obit_sent = 0;                        // when we last reported the end (0 = never)

  std::string attr(const std::string& n) const {
    auto it = attrs.find(n);
    return it == attrs.end() ? std::string() : it->second;
  }
};

std::string record_path(const std::string& jobs_dir, const std::string& id, const char* ext);
bool save_record(const std::string& jobs_dir, const JobRecord& r, std::string& error);
bool load_record(const std::string& path, JobRecord& r);
void remove_record(const std::string& jobs_dir, const std::string& id);

// The supervisor's end-of-job file: "exit_status cpu_seconds maxrss_kb".
bool read_exit_file(const std::string& jobs_dir, JobRecord& r);

unsigned long long process_start_time(pid_t pid);  // 0 if gone

}  // namespace reprise::mom
