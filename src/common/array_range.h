// TORQUE's job array requests (qsub -t) and index ranges (qdel/qhold/qrls/qalter -t):
// "0-3", "1,5,7", "1-10,20", with an optional slot limit "%N" at the end of a request.
#pragma once
#include <string>
#include <vector>

namespace reprise {

// Largest index and largest number of sub-jobs one array may have (TORQUE's
// max_job_array_size may lower the count on a server).
constexpr long kMaxArrayIndex = 99999999;
constexpr long kMaxArraySize = 1000000;

struct ArrayRequest {
  std::vector<long> indices;  // ascending, no duplicates
  long slot_limit = 0;        // 0: unlimited
};

// Parses a qsub -t value. False with a one-line `error` saying what is wrong.
bool parse_array_request(const std::string& text, ArrayRequest& out, std::string& error);

// Parses an index range list without a slot limit ("1-3,7"), as qdel -t takes it.
bool parse_array_range(const std::string& text, std::vector<long>& out, std::string& error);

// The shortest range list for ascending indices: {1,2,3,7} -> "1-3,7".
std::string format_array_range(const std::vector<long>& indices);

}  // namespace reprise
