// One request per job id (qdel, qhold, qrls, qrerun, qrun, qsig, qalter): errors are
// printed per job and the command goes on with the others.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace reprise::client {

// Returns the exit code: 0 if every job succeeded, else the last failure's code.
int for_each_job(const std::string& op, const std::vector<std::string>& ids, const std::string& arg,
                 const std::map<std::string, std::string>& attrs = {});

}  // namespace reprise::client
