#include "common/munge_auth.h"

#include <munge.h>

#include <cstdlib>

namespace reprise {

namespace {
// A context pointing at the munged socket named by MUNGE_SOCKET, if any.
struct Context {
  munge_ctx_t ctx = munge_ctx_create();
  Context() {
    if (const char* sock = std::getenv("MUNGE_SOCKET"); sock && *sock && ctx)
      munge_ctx_set(ctx, MUNGE_OPT_SOCKET, sock);
  }
  ~Context() {
    if (ctx) munge_ctx_destroy(ctx);
  }
};
}  // namespace

bool munge_make_credential(const std::string& payload, std::string& cred, std::string& error) {
  Context c;
  char* out = nullptr;
  munge_err_t rc = munge_encode(&out, c.ctx, payload.data(), int(payload.size()));
  if (rc != EMUNGE_SUCCESS) {
    error = std::string("MUNGE credential failed (is munged running?): ") + munge_ctx_strerror(c.ctx);
    if (out) std::free(out);
    return false;
  }
  cred = out;
  std::free(out);
  return true;
}

MungeCheck munge_check(const std::string& cred) {
  MungeCheck r;
  if (cred.empty()) {
    r.reason = "no credential";
    r.munge_error = "a MUNGE credential is required on TCP connections";
    return r;
  }
  Context c;
  void* data = nullptr;
  int len = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  munge_err_t rc = munge_decode(cred.c_str(), c.ctx, &data, &len, &uid, &gid);
  // libmunge still returns the payload and identity of an expired, rewound or replayed
  // credential (it decrypted with our key); for other errors they are not set.
  if (rc == EMUNGE_SUCCESS || rc == EMUNGE_CRED_EXPIRED || rc == EMUNGE_CRED_REWOUND ||
      rc == EMUNGE_CRED_REPLAYED) {
    r.claims = true;
    r.uid = uid;
    r.gid = gid;
    if (data) r.payload.assign(static_cast<const char*>(data), size_t(len));
  }
  if (data) std::free(data);
  r.ok = rc == EMUNGE_SUCCESS;
  if (r.ok) return r;
  const char* msg = munge_ctx_strerror(c.ctx);
  r.munge_error = msg ? msg : munge_strerror(rc);
  switch (rc) {
    case EMUNGE_CRED_REPLAYED: r.reason = "replayed credential"; break;
    case EMUNGE_CRED_EXPIRED: r.reason = "expired credential"; break;
    case EMUNGE_CRED_REWOUND: r.reason = "rewound credential (clock skew)"; break;
    // MUNGE cannot tell a credential from a host with another key from a tampered one: the
    // MAC (or decryption) fails either way.
    case EMUNGE_CRED_INVALID: r.reason = "invalid credential (wrong MUNGE key or altered)"; break;
    case EMUNGE_BAD_CRED:
    case EMUNGE_BAD_VERSION:
    case EMUNGE_BAD_CIPHER:
    case EMUNGE_BAD_MAC:
    case EMUNGE_BAD_ZIP:
    case EMUNGE_BAD_REALM:
    case EMUNGE_BAD_LENGTH: r.reason = "malformed credential"; break;
    case EMUNGE_CRED_UNAUTHORIZED: r.reason = "unauthorized credential"; break;
    case EMUNGE_SOCKET:
    case EMUNGE_TIMEOUT: r.reason = "munged unavailable on the server"; break;
    default: r.reason = "credential not accepted"; break;
  }
  return r;
}

}  // namespace reprise
