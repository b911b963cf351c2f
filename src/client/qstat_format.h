// qstat's output formats, from status objects (pure functions, unit-tested).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "reprise.pb.h"

namespace reprise::client {

using Objects = std::vector<wire::Object>;

std::string format_job_table(const Objects& jobs);                         // default

// One row of the default table, as the server sent it ("" = unset); Job_Owner is user@host.
struct JobRow {
  std::string_view id, name, owner, cput, state, queue;
};
// The default table from rows (what format_job_table prints; qstat's fast path for big listings).
std::string format_job_rows(const std::vector<JobRow>& rows);
std::string format_job_alt(const Objects& jobs, const std::string& server, // -a, -n, -1
                           bool nodes, bool one_line);
std::string format_full(const Objects& objs, const std::string& label);    // -f ("Job Id", "Queue", "Server")
std::string format_json(const Objects& objs, const std::string& section,   // -f -F json
                        const std::string& server);
// JSON text must be UTF-8, attribute values are bytes: each byte that is not part of a valid
// UTF-8 sequence becomes the four characters \xHH (as Python's "backslashreplace").
std::string json_safe(std::string_view bytes);
std::string format_queue_table(const Objects& queues);                     // -Q
std::string format_server_table(const Objects& servers);                   // -B

}  // namespace reprise::client
