// tracejob's reading of the server's files: accounting records (server_priv/accounting/
// YYYYMMDD) and the server and mom logs, each line "MM/DD/YYYY HH:MM:SS;..." naming the job.
#pragma once
#include <string>
#include <vector>

namespace reprise::client {

struct TraceLine {
  std::string stamp;   // "MM/DD/YYYY HH:MM:SS"
  char source = 'S';   // A accounting, S server log, M mom log (TORQUE's letters)
  std::string text;    // the rest of the line
  long order = 0;      // position in its file, to keep equal stamps in file order
};

// The full id of `given` ("12" or "12.host"): with no suffix, SEQ.server_name.
std::string full_job_id(const std::string& given, const std::string& server_name);

// Lines of `content` (one file's text) about job `id`. Accounting lines "STAMP;T;ID;MSG" give
// "T  MSG" under source A; log lines give their message when it names the id as a whole word.
std::vector<TraceLine> trace_accounting(const std::string& content, const std::string& id);
std::vector<TraceLine> trace_log(const std::string& content, const std::string& id, char source);

// Sorted by time (MM/DD/YYYY compares as YYYYMMDD), stable within a file.
void sort_trace(std::vector<TraceLine>& lines);

}  // namespace reprise::client
