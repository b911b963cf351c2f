#include "lib/owner_file_access.h"

#include <grp.h>
#include <pwd.h>
#include <sys/fsuid.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "lib/restart_child.h"

namespace reprise::cr {

OwnerFileAccess::OwnerFileAccess(uid_t owner, gid_t group) {
  if (geteuid() != 0 || owner == 0) return;
  // Already the owner's (an enclosing OwnerFileAccess): nothing to switch or restore.
  if (static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) == owner) return;
  int n = getgroups(0, nullptr);
  saved_groups_.resize(n > 0 ? n : 0);
  if (n > 0 && getgroups(n, saved_groups_.data()) != n)
    throw RestartError{errno, std::string("getgroups: ") + strerror(errno)};
  std::vector<gid_t> groups{group};
  if (const passwd* pw = getpwuid(owner)) {
    int count = 64;
    groups.resize(count);
    if (getgrouplist(pw->pw_name, group, groups.data(), &count) < 0) {
      groups.resize(count);
      getgrouplist(pw->pw_name, group, groups.data(), &count);
    }
    groups.resize(count);
  }
  if (setgroups(groups.size(), groups.data()) != 0)
    throw RestartError{errno, std::string("cannot take the image owner's groups: ") + strerror(errno)};
  saved_fsgid_ = static_cast<gid_t>(setfsgid(group));
  saved_fsuid_ = static_cast<uid_t>(setfsuid(owner));
  active_ = true;
  // setfs*id report no errors; read them back (an invalid id leaves them unchanged).
  if (static_cast<gid_t>(setfsgid(static_cast<gid_t>(-1))) != group ||
      static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) != owner) {
    Restore();  // no destructor runs for a constructor that throws
    throw RestartError{EPERM, "cannot act as the image's owner (uid " + std::to_string(owner) + ") for its files"};
  }
}

OwnerFileAccess::~OwnerFileAccess() { Restore(); }

void OwnerFileAccess::Restore() {
  if (!active_) return;
  active_ = false;
  setfsuid(saved_fsuid_);
  setfsgid(saved_fsgid_);
  setgroups(saved_groups_.size(), saved_groups_.data());
}

}  // namespace reprise::cr
