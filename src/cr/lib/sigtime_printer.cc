#include "lib/sigtime_printer.h"

#include <csignal>
#include <cstdio>
#include <cstring>

#include "lib/print_format.h"

namespace reprise::cr {
namespace {

siginfo_t InfoOf(const PendingSignalRecord& s) {
  siginfo_t info{};
  memcpy(&info, s.info, sizeof info);
  return info;
}

// Queued by a process (kill, sigqueue, tgkill): its sender and value mean something.
bool FromAProcess(const siginfo_t& i) { return i.si_code == SI_USER || i.si_code == SI_QUEUE || i.si_code == SI_TKILL; }

}  // namespace

std::string PendingSignalLine(const PendingSignalRecord& s) {
  siginfo_t i = InfoOf(s);
  std::string line = "pending signal " + std::to_string(i.si_signo) + " (" + strsignal(i.si_signo) + ") for " +
                     (s.tid ? "thread " + std::to_string(s.tid) : std::string("the process")) + ", code " +
                     std::to_string(i.si_code);
  if (FromAProcess(i)) line += ", from pid " + std::to_string(i.si_pid);
  if (i.si_code == SI_QUEUE || i.si_code == SI_TIMER) line += ", value " + HexText(reinterpret_cast<uint64_t>(i.si_ptr));
  return line;
}

nlohmann::json PendingSignalJson(const PendingSignalRecord& s) {
  siginfo_t i = InfoOf(s);
  nlohmann::json j{{"signal", i.si_signo}, {"code", i.si_code}, {"thread", s.tid}};
  if (FromAProcess(i)) j["from_pid"] = i.si_pid;
  if (i.si_code == SI_QUEUE || i.si_code == SI_TIMER) j["value"] = reinterpret_cast<uint64_t>(i.si_ptr);
  return j;
}

std::string PosixTimerLine(const PosixTimerRecord& t) {
  std::string line = "POSIX timer " + std::to_string(t.id) + ": clock " + std::to_string(t.clock);
  if (t.notify == SIGEV_NONE) line += ", no notification";
  else line += ", signal " + std::to_string(t.signo) + " value " + HexText(t.sigev_value);
  if (t.notify & SIGEV_THREAD_ID) line += " to thread " + std::to_string(t.target_tid);
  line += t.value_ns ? ", next in " + SecondsText(t.value_ns) : std::string(", disarmed");
  if (t.interval_ns) line += ", every " + SecondsText(t.interval_ns);
  return line;
}

namespace {
const char* LockKind(uint32_t kind) { return kind == kLockFlock ? "flock" : kind == kLockOfd ? "OFD" : "POSIX"; }
std::string LockRange(const FileLockRecord& l) {
  if (l.kind == kLockFlock) return "whole file";
  return "bytes " + std::to_string(l.start) + "-" + (l.len ? std::to_string(l.start + l.len - 1) : std::string("EOF"));
}
}  // namespace

std::string FileLockLine(const FileLockRecord& l) {
  return std::string(LockKind(l.kind)) + " " + (l.write ? "write" : "read") + " lock, " + LockRange(l);
}

nlohmann::json FileLockJson(const FileLockRecord& l) {
  return {{"fd", l.fd}, {"kind", LockKind(l.kind)}, {"write", l.write != 0}, {"start", l.start}, {"len", l.len}};
}

nlohmann::json PosixTimerJson(const PosixTimerRecord& t) {
  return {{"id", t.id},         {"clock", t.clock},          {"notify", t.notify},
          {"signal", t.signo},  {"value", t.sigev_value},    {"thread", t.target_tid},
          {"next_ns", t.value_ns}, {"interval_ns", t.interval_ns}};
}

}  // namespace reprise::cr
