// The job attribute table: the one place where pbs_server decides who may set which job
// attribute, when, which values are acceptable, and who besides the owner may read it (as TORQUE's and OpenPBS's attribute
// definition tables do). Submit, qalter and mom reports all go through it; an attribute
// that is not in the table cannot be set by anyone from outside the server.
#pragma once
#include <string>

namespace reprise::server {

// Who is setting the attribute, and in which request.
enum class AttrSetter {
  kSubmit,        // a user's qsub
  kAlterQueued,   // qalter of a queued or held job (owner, operator or manager)
  kAlterRunning,  // qalter of a running job
  kMomReport,     // a mom reporting on a job it runs (start, checkpoint, end)
};

// Whether `name` may be set to `value` by `setter`; `manager` says whether the requester
// is a manager. On refusal `error` is the one-line answer (TORQUE's wording, naming the
// attribute) and `code` the TORQUE error number.
bool may_set_job_attr(const std::string& name, const std::string& value, AttrSetter setter, bool manager,
                      int& code, std::string& error);

// Whether users other than the job's owner (who see the job because of query_other_jobs)
// may read `name`. The job's environment, paths, arguments and mail addresses are private:
// only the owner, operators and managers see them. Attributes starting with '_' are the
// server's own and nobody sees them.
bool job_attr_public(const std::string& name);

}  // namespace reprise::server
