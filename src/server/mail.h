// Job mail (qsub -m abe, -M): TORQUE's messages, sent through the site's sendmail
// (server attributes sendmail_path, default /usr/sbin/sendmail, and mail_from, default adm).
#pragma once
#include <string>

#include "server/state.h"

namespace reprise::server {

// `event` is 'b' (began execution), 'e' (terminated) or 'a' (aborted by the server). Sends
// if the job's Mail_Points ask for it; never blocks the server (sendmail runs in a
// grandchild that is nobody's zombie).
void mail_job_event(const ServerState& st, const Job& job, char event);

// The message as sendmail reads it (headers, blank line, body). Public for tests.
std::string job_mail_text(const Job& job, char event, const std::string& to);

// Recipients: Mail_Users, else the owner; only plain addresses (no option-like or odd
// characters: root hands them to sendmail).
std::string mail_recipients(const Job& job);

}  // namespace reprise::server
