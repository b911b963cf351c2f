// qstat's output formats, from status objects (pure functions, unit-tested).
#pragma once
#include <string>
#include <string_view>
#include <utility>
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
// The alternative table (-a, -u, -n, -1, -s, -R, -G, -M) and queue summary (-q): qstat_alt.cpp.
enum class SizeUnit { kAsIs, kMw, kGb };  // -M, -G
struct AltOptions {
  bool nodes = false;     // -n: the exec hosts under each row
  bool one_line = false;  // -1: ... on the row's line
  bool comment = false;   // -s: the job's comment under each row
  bool srfs = false;      // -R: the NDS/TSK/.../BIG FAST PFS columns
  SizeUnit unit = SizeUnit::kAsIs;
};
std::string format_job_alt(const Objects& jobs, const std::string& server, const std::string& server_comment,
                           const AltOptions& opt);
// A size (e.g. "1gb", "512mb", "100") in megawords (-M) or gigabytes (-G), rounded up, as TORQUE's
// cnv_size(); unchanged with kAsIs.
std::string convert_size(const std::string& value, SizeUnit unit);
// TORQUE's prt_nodes: domain names cut, lines broken at '+' past 77 columns (unless one_line).
std::string format_exec_hosts(const std::string& hosts, bool one_line);
std::string format_queue_alt(const Objects& queues, const std::string& server, SizeUnit unit);  // -q
// -x: <?xml version="1.0"?> then <Data><Job><Job_Id>..</Job_Id>..</Job></Data> on one line.
std::string format_xml(const Objects& jobs);
// Whether a job's owner (Job_Owner user@host) is in a -u list ("a,b", "a@host").
bool owner_in(const std::string& owner, const std::vector<std::string>& users);
// Attributes in TORQUE's order (jobs: Job_Name, Job_Owner, resources_used.*, ...; then alphabetical).
std::vector<std::pair<std::string, std::string>> ordered_attrs(const wire::Object& o, bool job);
std::string format_full(const Objects& objs, const std::string& label);    // -f ("Job Id", "Queue", "Server")
std::string format_json(const Objects& objs, const std::string& section,   // -f -F json
                        const std::string& server);
// JSON text must be UTF-8, attribute values are bytes: each byte that is not part of a valid
// UTF-8 sequence becomes the four characters \xHH (as Python's "backslashreplace").
std::string json_safe(std::string_view bytes);
std::string format_queue_table(const Objects& queues);                     // -Q
std::string format_server_table(const Objects& servers);                   // -B

}  // namespace reprise::client
