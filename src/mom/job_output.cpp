#include "mom/job_output.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>

namespace reprise::mom {

namespace {

// Runs `open_fn` with the owner's file-system identity for this one call; its result (a
// descriptor or -1) with its errno.
int as_owner_fs(const Owner& owner, const std::function<int()>& open_fn) {
  if (::initgroups(owner.name.c_str(), owner.gid) != 0) return -1;
  ::setfsgid(owner.gid);
  ::setfsuid(owner.uid);
  int fd = open_fn();
  int saved = errno;
  ::setfsuid(0);
  ::setfsgid(0);
  ::setgroups(0, nullptr);
  errno = saved;
  return fd;
}

// The user's path; a directory gets `name` in it. On failure `tried` is the last path tried.
int open_user_path(const Owner& owner, const std::string& path, const std::string& name, int flags, mode_t mode,
                   std::string& tried) {
  tried = path;
  int fd = as_owner_fs(owner, [&] { return ::open(tried.c_str(), flags, mode); });
  if (fd < 0 && errno == EISDIR) {
    tried = path + (path.back() == '/' ? "" : "/") + name;
    fd = as_owner_fs(owner, [&] { return ::open(tried.c_str(), flags, mode); });
  }
  return fd;
}

// An existing entry is the owner's own regular file with no other name (an earlier run of
// the same job); anything else someone put there.
bool owners_own_file(int fd, const Owner& owner) {
  struct stat st{};
  return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == owner.uid && st.st_nlink == 1;
}

// PBS_HOME/undelivered/JOBID.EXT (mode 01777, like /tmp), as the owner.
int open_undelivered(const std::string& home, const Owner& owner, const JobRecord& job, const char* ext,
                     bool restart, std::string& kept) {
  std::string base = home + "/undelivered/" + job.id + ext;
  kept = base;
  // O_NONBLOCK: a FIFO planted under the name must not hang the supervisor.
  int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | (restart ? O_APPEND : 0);
  int fd = as_owner_fs(owner, [&] { return ::open(base.c_str(), flags, 0600); });
  if (fd >= 0 && !owners_own_file(fd, owner)) {
    ::close(fd);
    fd = -1;
  }
  if (fd < 0) {
    std::string tmpl = base + ".XXXXXX";
    fd = as_owner_fs(owner, [&] { return ::mkostemp(tmpl.data(), restart ? O_APPEND : 0); });
    if (fd >= 0) kept = tmpl;
    return fd;
  }
  if (!restart && ::ftruncate(fd, 0) != 0) {
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  ::fchmod(fd, 0600);
  return fd;
}

// One stream: the user's path, else the undelivered directory, else /dev/null.
int open_stream(const std::string& home, const Owner& owner, const JobRecord& job, bool restart,
                const std::string& path, char stream, const char* label, mode_t mode, std::string& report,
                std::string& file, bool& moved) {
  int flags = O_WRONLY | O_CREAT | (restart ? O_APPEND : O_TRUNC);
  int fd = open_user_path(owner, path, default_output_name(job, stream), flags, mode, file);
  if (file != path) moved = true;
  if (fd >= 0) return fd;
  moved = true;
  std::string why = std::strerror(errno);
  if (!report.empty()) report += "; ";
  report += "cannot write " + file + " (" + why + "), ";
  fd = open_undelivered(home, owner, job, stream == 'o' ? ".OU" : ".ER", restart, file);
  if (fd >= 0) {
    report += std::string(label) + " kept in " + file;
    return fd;
  }
  report += std::string(label) + " lost: cannot create " + file + " (" + std::strerror(errno) + ")";
  file.clear();
  return ::open("/dev/null", O_WRONLY);
}

}  // namespace

std::string default_output_name(const JobRecord& job, char stream) {
  std::string seq = job.id.substr(0, job.id.find('.'));  // "12" or "12[3]"
  if (auto b = seq.find('['); b != std::string::npos) seq = seq.substr(0, b) + "-" + seq.substr(b + 1, seq.find(']') - b - 1);
  std::string name = job.attr("Job_Name").empty() ? "STDIN" : job.attr("Job_Name");
  return name + "." + stream + seq;
}

JobOutputs open_job_outputs(const std::string& home, const Owner& owner, const JobRecord& job, bool restart,
                            const std::string& out_path, const std::string& err_path, mode_t mask) {
  JobOutputs o;
  std::string join = job.attr("Join_Path");
  mode_t mode = 0666 & ~mask;
  mode_t old = ::umask(0);
  std::string report;
  if (join == "oe") {
    o.out = o.err =
        open_stream(home, owner, job, restart, out_path, 'o', "stdout and stderr", mode, report, o.out_file, o.moved);
    o.err_file = o.out_file;
  } else if (join == "eo") {
    o.out = o.err =
        open_stream(home, owner, job, restart, err_path, 'e', "stdout and stderr", mode, report, o.err_file, o.moved);
    o.out_file = o.err_file;
  } else {
    o.out = open_stream(home, owner, job, restart, out_path, 'o', "stdout", mode, report, o.out_file, o.moved);
    o.err = open_stream(home, owner, job, restart, err_path, 'e', "stderr", mode, report, o.err_file, o.moved);
  }
  ::umask(old);
  if (!report.empty()) o.undelivered = "Output undelivered: " + report;
  return o;
}

std::string encode_output_note(const JobOutputs& o) {
  // One item a line; the paths are one line each (the server checks them, undelivered/ is ours).
  return "comment=" + o.undelivered + "\nO=" + o.out_file + "\nE=" + o.err_file + "\n";
}

void apply_output_note(const std::string& note, JobRecord& job) {
  size_t at = 0;
  while (at < note.size()) {
    size_t end = note.find('\n', at);
    if (end == std::string::npos) end = note.size();
    std::string line = note.substr(at, end - at);
    at = end + 1;
    if (line.rfind("comment=", 0) == 0 && line.size() > 8) job.used["comment"] = line.substr(8);
    if (line.rfind("O=", 0) == 0) job.attrs["_output_file"] = line.substr(2);
    if (line.rfind("E=", 0) == 0) job.attrs["_error_file"] = line.substr(2);
  }
}

}  // namespace reprise::mom
