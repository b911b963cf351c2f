// One request per job id (qdel, qhold, qrls, qrerun, qrun, qsig, qalter): errors are
// printed per job and the command goes on with the others.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace reprise::client {

// Returns the exit code: 0 if every job succeeded, else the last failure's code.
int for_each_job(const std::string& op, const std::vector<std::string>& ids, const std::string& arg,
                 const std::map<std::string, std::string>& attrs = {}, const std::string& array_range = "");

// Checks a -t RANGE ("1-3,7") of qdel/qhold/qrls/qalter/qstat; false with a one-line error.
bool valid_array_range_option(const std::string& range, std::string& error);

// With -t, "5" and "5.host" name the array: "5[]" and "5[].host".
std::string array_id(const std::string& id);

}  // namespace reprise::client
