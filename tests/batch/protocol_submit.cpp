#include "protocol_submit.h"

#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "client/client.h"

namespace reprise::test {

int submit_over_connections(int count, int workers, const std::string& script,
                            const std::function<void(int, std::map<std::string, std::string>&)>& attrs) {
  std::vector<pid_t> kids;
  for (int w = 0; w < workers; ++w) {
    pid_t k = fork();
    if (k == 0) {
      client::Connection conn;
      std::string error;
      if (!conn.open(error)) _exit(2);
      for (int i = w; i < count; i += workers) {
        wire::Request req;
        req.set_op("submit");
        std::map<std::string, std::string> a;
        attrs(i, a);
        for (const auto& [name, value] : a) (*req.mutable_attrs())[name] = value;
        req.set_script(script);
        wire::Response resp;
        if (!conn.call(req, resp, error) || resp.code() != 0) _exit(3);
      }
      _exit(0);
    }
    kids.push_back(k);
  }
  int failed = 0;
  for (pid_t k : kids) {
    int st = 0;
    waitpid(k, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) ++failed;
  }
  return failed;
}

}  // namespace reprise::test
