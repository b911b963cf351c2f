#include "mom/mom_directives.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/text_util.h"
#include "mom/owner_process.h"
#include "mom/prologue.h"

namespace reprise::mom {

static std::string value_of(const MomConfig& config, const char* key) {
  auto it = config.values.find(key);
  return it == config.values.end() ? std::string() : trim(it->second);
}

SupervisorSettings supervisor_settings(const MomConfig& config) {
  SupervisorSettings s;
  std::string mask = value_of(config, "job_output_file_umask");
  if (!mask.empty() && mask != "userdefault") {
    char* end = nullptr;
    long v = std::strtol(mask.c_str(), &end, 8);
    if (end && !*end && v >= 0 && v <= 0777) s.output_umask = mode_t(v);
  }
  s.prolog_alarm = prolog_alarm(config);
  return s;
}

std::string job_tmpdir(const MomConfig& config, const std::string& job_id) {
  std::string dir = value_of(config, "tmpdir");
  if (dir.empty() || dir[0] != '/') return "";
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + "/" + job_id;
}

bool create_job_tmpdir(const std::string& path, const Owner& owner, std::string& error) {
  size_t slash = path.rfind('/');
  std::string parent = slash == 0 || slash == std::string::npos ? std::string(1, '/') : path.substr(0, slash);
  std::string name = path.substr(slash == std::string::npos ? 0 : slash + 1);
  int pfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (pfd < 0) {
    error = "$tmpdir " + parent + ": " + std::strerror(errno);
    return false;
  }
  if (::mkdirat(pfd, name.c_str(), 0700) != 0 && errno != EEXIST) {
    error = "cannot create the job's TMPDIR " + path + ": " + std::strerror(errno);
    ::close(pfd);
    return false;
  }
  int fd = ::openat(pfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  ::close(pfd);
  struct stat st{};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    error = "the job's TMPDIR " + path + " is not a directory (a symbolic link or file is in the way)";
    if (fd >= 0) ::close(fd);
    return false;
  }
  // Ours (just made by root) or the owner's own from an earlier run; anything else is in the way.
  bool ok = (st.st_uid == 0 || st.st_uid == owner.uid) && ::fchown(fd, owner.uid, owner.gid) == 0 &&
            ::fchmod(fd, 0700) == 0;
  ::close(fd);
  if (!ok) error = "the job's TMPDIR " + path + " exists and belongs to someone else";
  return ok;
}

void remove_job_tmpdir(const std::string& path, const Owner& owner) {
  std::string out;
  as_owner(
      owner,
      [&](std::string&) {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
        return ec ? 1 : 0;
      },
      out);
}

static bool host_matches(const std::string& pattern, const std::string& host) {
  if (pattern == "*" || pattern == host) return true;
  if (pattern.size() > 1 && pattern[0] == '*')
    return host.size() >= pattern.size() - 1 && host.compare(host.size() - (pattern.size() - 1), std::string::npos,
                                                            pattern, 1, std::string::npos) == 0;
  return false;
}

std::string output_path_on_node(const MomConfig& config, const std::string& host_path) {
  auto colon = host_path.find(':');
  if (colon == std::string::npos || host_path.find('/') < colon) return host_path;
  std::string host = host_path.substr(0, colon), path = host_path.substr(colon + 1);
  for (const std::string& line : split(value_of(config, "usecp"), '\n')) {
    // "HOST:PATH LOCALPATH"
    std::string t = trim(line);
    auto sp = t.find_first_of(" \t");
    if (sp == std::string::npos) continue;
    std::string from = t.substr(0, sp), to = trim(t.substr(sp));
    auto c = from.find(':');
    if (c == std::string::npos) continue;
    std::string pat_host = from.substr(0, c), prefix = from.substr(c + 1);
    if (!host_matches(pat_host, host) || path.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = path.substr(prefix.size());
    if (!rest.empty() && rest[0] != '/' && !prefix.empty() && prefix.back() != '/') continue;  // /home2 vs /home
    return to + rest;
  }
  return path;
}

}  // namespace reprise::mom
