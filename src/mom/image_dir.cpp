#include "mom/image_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/checkpoint_policy.h"
#include "common/names.h"
#include "common/text_util.h"
#include "mom/owner_process.h"

namespace reprise::mom {

namespace {

std::string base_dir(const std::string& home, const JobRecord& job) {
  std::string base = job.attr("checkpoint_dir");
  if (base.empty()) base = parse_checkpoint_policy(job.attr("Checkpoint")).dir;
  if (base.empty()) base = home + "/checkpoint";
  return base;
}

// The mom's own PBS_HOME/checkpoint, or a directory the server says an admin chose.
bool admin_base(const std::string& home, const JobRecord& job, const std::string& base) {
  return base == home + "/checkpoint" || job.attr("checkpoint_dir_admin") == "True";
}

// As the owner, in a directory the user named: only what the owner could do by hand.
bool prepare_as_owner(const std::string& dir, const Owner& owner, std::string& error) {
  std::string out;
  int rc = as_owner(owner, [&](std::string& msg) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      msg = "cannot create checkpoint directory " + dir + " as " + owner.name + ": " + std::strerror(errno);
      return 1;
    }
    struct stat st{};
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
      msg = "checkpoint directory " + dir + " is not a directory of " + owner.name + "'s";
      return 1;
    }
    return 0;
  }, out);
  if (rc == 0) return true;
  error = out.empty() ? "cannot prepare checkpoint directory " + dir + " as " + owner.name : out;
  return false;
}

// As root, inside an admin's directory: mkdirat + openat(O_NOFOLLOW) + fchown/fchmod on the
// descriptor, so a name swapped for a symlink is never followed. An existing entry that is
// not a directory of root's or the owner's (someone planted it) is refused, not taken over.
bool prepare_as_root(const std::string& base, const std::string& name, const Owner& owner, std::string& error) {
  std::string dir = base + "/" + name;
  int bfd = ::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (bfd < 0) {
    error = "cannot open checkpoint directory " + base + ": " + std::strerror(errno);
    return false;
  }
  struct stat bst{};
  if (::fstat(bfd, &bst) != 0 || bst.st_uid != 0) {
    ::close(bfd);
    return prepare_as_owner(dir, owner, error);  // not root's: treat it as a user's directory
  }
  if (::mkdirat(bfd, name.c_str(), 0700) != 0 && errno != EEXIST) {
    error = "cannot create checkpoint directory " + dir + ": " + std::strerror(errno);
    ::close(bfd);
    return false;
  }
  int dfd = ::openat(bfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  ::close(bfd);
  struct stat st{};
  if (dfd < 0 || ::fstat(dfd, &st) != 0) {
    error = "checkpoint directory " + dir + " is not a directory (" + std::strerror(errno) +
            "); remove it so the job can be checkpointed";
    if (dfd >= 0) ::close(dfd);
    return false;
  }
  if (st.st_uid != 0 && st.st_uid != owner.uid) {
    error = "checkpoint directory " + dir + " belongs to uid " + std::to_string(st.st_uid) + ", not to " +
            owner.name + "; remove it so the job can be checkpointed";
    ::close(dfd);
    return false;
  }
  bool ok = ::fchown(dfd, owner.uid, owner.gid) == 0 && ::fchmod(dfd, 0700) == 0;
  if (!ok) error = "cannot give checkpoint directory " + dir + " to " + owner.name + ": " + std::strerror(errno);
  ::close(dfd);
  return ok;
}

std::vector<std::string> list_images(const std::string& dir, const std::string& job_id) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    std::string prefix = "ckpt." + job_id + ".";
    while (dirent* e = ::readdir(d))
      if (starts_with(e->d_name, prefix)) names.emplace_back(e->d_name);
    ::closedir(d);
  }
  sort_image_names(names, job_id);
  return names;
}

}  // namespace

void sort_image_names(std::vector<std::string>& names, const std::string& job_id) {
  // ckpt.JOBID.UNIXTIME[N]: order by the number after the job id.
  size_t skip = 5 + job_id.size() + 1;
  std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    long long x = a.size() > skip ? std::strtoll(a.c_str() + skip, nullptr, 10) : 0;
    long long y = b.size() > skip ? std::strtoll(b.c_str() + skip, nullptr, 10) : 0;
    return x != y ? x < y : a < b;
  });
}

std::string image_dir(const std::string& home, const JobRecord& job) {
  return base_dir(home, job) + "/" + job.id + ".CK";
}

bool prepare_image_dir(const std::string& home, const JobRecord& job, const Owner& owner, std::string& error) {
  if (!valid_job_id(job.id)) {
    error = "invalid job id";
    return false;
  }
  std::string base = base_dir(home, job);
  if (!valid_absolute_path(base)) {
    error = "checkpoint directory '" + base + "' is not an absolute path";
    return false;
  }
  if (admin_base(home, job, base)) return prepare_as_root(base, job.id + ".CK", owner, error);
  return prepare_as_owner(base + "/" + job.id + ".CK", owner, error);
}

bool new_image_name(const Owner& owner, const std::string& dir, const std::string& job_id, long time,
                    std::string& name, std::string& error) {
  int rc = as_owner(owner, [&](std::string& out) {
    out = "ckpt." + job_id + "." + std::to_string(time);
    for (int k = 1; ::access((dir + "/" + out).c_str(), F_OK) == 0; ++k)
      out = "ckpt." + job_id + "." + std::to_string(time) + std::to_string(k);
    return 0;
  }, name);
  if (rc == 0 && !name.empty()) return true;
  error = "cannot look into checkpoint directory " + dir + " as " + owner.name;
  return false;
}

bool image_exists(const Owner& owner, const std::string& dir, const std::string& name) {
  std::string out;
  return as_owner(owner, [&](std::string&) { return ::access((dir + "/" + name).c_str(), F_OK) == 0 ? 0 : 1; },
                  out) == 0;
}

bool newest_image(const Owner& owner, const std::string& dir, const std::string& job_id, long since,
                  std::string& name, long& mtime) {
  std::string out;
  int rc = as_owner(owner, [&](std::string& result) {
    std::vector<std::string> names = list_images(dir, job_id);
    for (auto it = names.rbegin(); it != names.rend(); ++it) {
      struct stat st{};
      if (::lstat((dir + "/" + *it).c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_mtime < since) continue;
      result = std::to_string(st.st_mtime) + " " + *it;
      return 0;
    }
    return 1;
  }, out);
  auto space = out.find(' ');
  if (rc != 0 || space == std::string::npos) return false;
  mtime = std::atol(out.c_str());
  name = out.substr(space + 1);
  return valid_file_name(name);
}

void prune_images(const Owner& owner, const std::string& dir, const std::string& job_id, long depth) {
  if (depth <= 0) return;
  std::string out;
  as_owner(owner, [&](std::string&) {
    std::vector<std::string> names = list_images(dir, job_id);
    for (size_t i = 0; i + size_t(depth) < names.size(); ++i) ::unlink((dir + "/" + names[i]).c_str());
    return 0;
  }, out);
}

}  // namespace reprise::mom
