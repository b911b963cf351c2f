#include "server/mail.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/syscall.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "common/log.h"
#include "common/text_util.h"
#include "server/server.h"

namespace reprise::server {

namespace {

bool plain_address(const std::string& a) {
  if (a.empty() || a[0] == '-' || a.size() > 256) return false;
  return a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+@-") ==
         std::string::npos;
}

}  // namespace

std::string mail_recipients(const Job& job) {
  std::vector<std::string> to;
  std::string list = job.attr("Mail_Users").empty() ? job.attr("Job_Owner") : job.attr("Mail_Users");
  for (const std::string& raw : split(list, ',')) {
    std::string a = trim(raw);
    if (plain_address(a)) to.push_back(a);
    else if (!a.empty()) log_line("job " + job.id + ": mail address '" + a + "' ignored (not a plain address)");
  }
  return join(to, ",");
}

std::string job_mail_text(const Job& job, char event, const std::string& to) {
  std::string body = "PBS Job Id: " + job.id + "\nJob Name:   " + job.attr("Job_Name") + "\n";
  if (!job.attr("exec_host").empty()) body += "Exec host:  " + job.attr("exec_host") + "\n";
  if (event == 'b') {
    body += "Begun execution\n";
  } else if (event == 'e') {
    body += "Execution terminated\nExit_status=" + job.attr("exit_status") + "\n";
    for (const char* r : {"cput", "mem", "vmem", "walltime"}) {
      std::string v = job.attr(std::string("resources_used.") + r);
      if (!v.empty()) body += std::string("resources_used.") + r + "=" + v + "\n";
    }
  } else {
    body += "Aborted by PBS Server \n";
    if (!job.attr("comment").empty()) body += job.attr("comment") + "\n";
  }
  return "To: " + to + "\nSubject: PBS JOB " + job.id + "\nPrecedence: bulk\n\n" + body;
}

void mail_job_event(const ServerState& st, const Job& job, char event) {
  std::string points = job.attr("Mail_Points");
  // f: the end of a job that exits non-zero (TORQUE's -m f), even without e.
  bool failed_end = event == 'e' && points.find('f') != std::string::npos && job.attr("exit_status") != "0";
  if (points.find(event) == std::string::npos && !failed_end) return;
  std::string to = mail_recipients(job);
  if (to.empty()) return;
  std::string sendmail = attr_or(st.attrs, "sendmail_path", "/usr/sbin/sendmail");
  std::string from = attr_or(st.attrs, "mail_from", "adm");
  if (!plain_address(from)) from = "adm";
  std::string text = job_mail_text(job, event, to);
  std::vector<std::string> argv{sendmail, "-f", from};
  for (const std::string& a : split(to, ',')) argv.push_back(a);
  pid_t child = ::fork();
  if (child < 0) {
    log_line("job " + job.id + ": cannot send mail: fork failed");
    return;
  }
  if (child == 0) {
    // The middle process exits at once; its child is adopted by init and reaped there.
    if (::fork() != 0) _exit(0);
    // Nothing of the server's (sockets, the database) stays open here.
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int p[2];
    if (::pipe(p) != 0) _exit(1);
    pid_t mailer = ::fork();
    if (mailer == 0) {
      ::dup2(p[0], 0);
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::syscall(SYS_close_range, 3u, ~0u, 0u);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      _exit(127);
    }
    ::close(p[0]);
    ::signal(SIGPIPE, SIG_IGN);
    size_t off = 0;
    while (off < text.size()) {
      ssize_t n = ::write(p[1], text.data() + off, text.size() - off);
      if (n <= 0) break;
      off += size_t(n);
    }
    ::close(p[1]);
    int status = 0;
    ::waitpid(mailer, &status, 0);
    _exit(0);
  }
  int status;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace reprise::server
