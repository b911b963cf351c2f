// MUNGE credentials for TCP connections (moms and remote clients).
#pragma once
#include <string>
#include <sys/types.h>

namespace reprise {

// The munged socket comes from MUNGE_SOCKET in the environment when set (tests start
// their own munged), else libmunge's default.
bool munge_make_credential(const std::string& payload, std::string& cred, std::string& error);
bool munge_check_credential(const std::string& cred, uid_t& uid, gid_t& gid,
                            std::string& payload, std::string& error);

}  // namespace reprise
