// MUNGE credentials for TCP connections (moms and remote clients).
#pragma once
#include <string>
#include <sys/types.h>

namespace reprise {

// The munged socket comes from MUNGE_SOCKET in the environment when set (tests start
// their own munged), else libmunge's default.
bool munge_make_credential(const std::string& payload, std::string& cred, std::string& error);

// The outcome of decoding a credential, for refusing and logging a connection.
struct MungeCheck {
  bool ok = false;
  // When the credential decrypted (ok, or expired/rewound/replayed), the identity it claims.
  bool claims = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string payload;
  // On failure: a short reason ("no credential", "replayed credential", "expired credential",
  // "invalid credential (wrong MUNGE key or altered)", "malformed credential",
  // "munged unavailable", ...) and libmunge's own message.
  std::string reason;
  std::string munge_error;
};
MungeCheck munge_check(const std::string& cred);

}  // namespace reprise
