#include "server/accounting.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "common/log.h"
#include "common/text_util.h"

namespace reprise::server {

namespace {

std::string local_time(long when, const char* format) {
  char buf[32];
  time_t t = when;
  tm tmv{};
  localtime_r(&t, &tmv);
  std::strftime(buf, sizeof buf, format, &tmv);
  return buf;
}

// Values are written as they are, except that the separators of the format (newline, and
// ';' which ends the header fields) cannot appear inside one; a space inside a value (a job
// name) is kept, as TORQUE does.
std::string clean(const std::string& v) {
  std::string out = v;
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}

void add(std::string& msg, const std::string& key, const std::string& value) {
  if (value.empty()) return;
  if (!msg.empty()) msg += ' ';
  msg += key + "=" + clean(value);
}

// TORQUE's fields of S and E records (and R): who, what, where, when, what it asked for.
std::string job_fields(const Job& job) {
  std::string m;
  add(m, "user", job.attr("euser"));
  add(m, "group", job.attr("egroup"));
  add(m, "account", job.attr("Account_Name"));
  add(m, "jobname", job.attr("Job_Name"));
  add(m, "queue", job.attr("queue"));
  add(m, "ctime", job.attr("ctime"));
  add(m, "qtime", job.attr("qtime"));
  add(m, "etime", job.attr("etime").empty() ? job.attr("qtime") : job.attr("etime"));
  add(m, "start", job.attr("start_time"));
  add(m, "owner", job.attr("Job_Owner"));
  add(m, "exec_host", job.attr("exec_host"));
  for (const auto& [k, v] : job.attrs)
    if (starts_with(k, "Resource_List.")) add(m, k, v);
  return m;
}

void write_record(const std::string& home, char type, const Job& job, const std::string& message) {
  long now = now_seconds();
  std::string dir = home + "/server_priv/accounting";
  ::mkdir(dir.c_str(), 0755);
  std::string path = accounting_file(home, now);
  std::string line = accounting_record(now, type, job.id, message) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
  // One write of one line with O_APPEND: records of concurrent writers never interleave.
  if (fd < 0 || ::write(fd, line.data(), line.size()) != ssize_t(line.size()))
    log_line("cannot write accounting record to " + path + ": " + std::strerror(errno));
  if (fd >= 0) ::close(fd);
}

}  // namespace

std::string accounting_record(long when, char type, const std::string& id, const std::string& message) {
  return local_time(when, "%m/%d/%Y %H:%M:%S") + ";" + std::string(1, type) + ";" + id + ";" + message;
}

std::string accounting_file(const std::string& home, long when) {
  return home + "/server_priv/accounting/" + local_time(when, "%Y%m%d");
}

void account_queued(const std::string& home, const Job& job) {
  write_record(home, 'Q', job, "queue=" + job.attr("queue"));
  log_line("Job;" + job.id + ";Job Queued at request of " + job.attr("Job_Owner") + ", owner = " +
           job.attr("Job_Owner") + ", job name = " + clean(job.attr("Job_Name")) + ", queue = " + job.attr("queue"));
}

void account_started(const std::string& home, const Job& job) {
  write_record(home, 'S', job, job_fields(job));
  log_line("Job;" + job.id + ";Job Run at request of Scheduler on exec_host " + job.attr("exec_host"));
}

void account_ended(const std::string& home, const Job& job) {
  std::string m = job_fields(job);
  add(m, "session", job.attr("session_id"));
  add(m, "end", job.attr("comp_time"));
  add(m, "Exit_status", job.attr("exit_status"));
  for (const auto& [k, v] : job.attrs)
    if (starts_with(k, "resources_used.")) add(m, k, v);
  write_record(home, 'E', job, m);
  log_line("Job;" + job.id + ";Exit_status=" + job.attr("exit_status") + " resources_used.cput=" +
           job.attr("resources_used.cput") + " resources_used.walltime=" + job.attr("resources_used.walltime"));
}

void account_deleted(const std::string& home, const Job& job, const std::string& requestor) {
  write_record(home, 'D', job, "requestor=" + requestor);
  log_line("Job;" + job.id + ";Job deleted at request of " + requestor);
}

void account_rerun(const std::string& home, const Job& job) {
  write_record(home, 'R', job, job_fields(job));
  log_line("Job;" + job.id + ";Job requeued" +
           (job.attr("comment").empty() ? std::string() : " (" + clean(job.attr("comment")) + ")"));
}

void account_aborted(const std::string& home, const Job& job, const std::string& why) {
  write_record(home, 'A', job, job_fields(job));
  log_line("Job;" + job.id + ";Job aborted: " + clean(why));
}

}  // namespace reprise::server
