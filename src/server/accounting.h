// TORQUE's accounting records: server_priv/accounting/YYYYMMDD (local date), one line per job
// event, "MM/DD/YYYY HH:MM:SS;TYPE;JOBID;key=value key=value ...", so tools written for
// TORQUE (pbsacct and the like) read them. The same events go to the server log, where
// tracejob finds them too.
#pragma once
#include <string>

#include "server/state.h"

namespace reprise::server {

// Q: queued (at submit).
void account_queued(const std::string& home, const Job& job);
// S: started on its nodes.
void account_started(const std::string& home, const Job& job);
// E: ended after running (exit status and resources used).
void account_ended(const std::string& home, const Job& job);
// D: deleted at the request of `requestor` (user@host).
void account_deleted(const std::string& home, const Job& job, const std::string& requestor);
// R: put back in the queue after it had started (qrerun, a node failure, a prologue).
void account_rerun(const std::string& home, const Job& job);
// A: aborted by the system (e.g. its prologue exited 1).
void account_aborted(const std::string& home, const Job& job, const std::string& why);

// One record's text, for tests and tracejob: "MM/DD/YYYY HH:MM:SS;T;ID;MESSAGE".
std::string accounting_record(long when, char type, const std::string& id, const std::string& message);
// The record's file for a time: HOME/server_priv/accounting/YYYYMMDD.
std::string accounting_file(const std::string& home, long when);

}  // namespace reprise::server
