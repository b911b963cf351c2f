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

bool munge_check_credential(const std::string& cred, uid_t& uid, gid_t& gid,
                            std::string& payload, std::string& error) {
  Context c;
  void* data = nullptr;
  int len = 0;
  munge_err_t rc = munge_decode(cred.c_str(), c.ctx, &data, &len, &uid, &gid);
  if (rc != EMUNGE_SUCCESS) {
    error = std::string("invalid MUNGE credential: ") + munge_ctx_strerror(c.ctx);
    if (data) std::free(data);
    return false;
  }
  payload.assign(static_cast<const char*>(data), size_t(len));
  std::free(data);
  return true;
}

}  // namespace reprise
