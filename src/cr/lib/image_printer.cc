#include "lib/image_printer.h"

#include <fcntl.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

#include "lib/event_printer.h"
#include "lib/sigtime_printer.h"
#include <nlohmann/json.hpp>

#include "lib/socket_state.h"
#include "lib/print_format.h"

namespace reprise::cr {
namespace {

std::string Time(uint64_t ns) {
  time_t t = static_cast<time_t>(ns / 1000000000ull);
  char buf[64];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %Z", localtime(&t));
  return buf;
}

std::string Size(uint64_t bytes) {
  char buf[32];
  if (bytes >= (1ull << 30)) snprintf(buf, sizeof buf, "%.1f GiB", bytes / 1073741824.0);
  else if (bytes >= (1ull << 20)) snprintf(buf, sizeof buf, "%.1f MiB", bytes / 1048576.0);
  else if (bytes >= 1024) snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  else snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  return buf;
}

std::string Perms(uint32_t f) {
  std::string s;
  s += (f & kVmaRead) ? 'r' : '-';
  s += (f & kVmaWrite) ? 'w' : '-';
  s += (f & kVmaExec) ? 'x' : '-';
  s += (f & kVmaShared) ? 's' : 'p';
  return s;
}

// "shared object 0:1/1234 at +0x0" for memory the restart shares through one
// memfd per object, "" otherwise.
std::string SharedObject(const VmaRecord& r) {
  if (!(r.flags & kVmaShared) || !(r.flags & kVmaAnon)) return "";
  return "shared object " + std::to_string(major(r.dev)) + ":" + std::to_string(minor(r.dev)) + "/" +
         std::to_string(r.ino) + " at +" + HexText(r.file_offset);
}

const char* KindName(uint32_t kind) {
  switch (static_cast<FileKind>(kind)) {
    case FileKind::kRegular: return "file";
    case FileKind::kDirectory: return "directory";
    case FileKind::kDevice: return "device";
    case FileKind::kTerminal: return "terminal";
    case FileKind::kPipe: return "pipe";
    case FileKind::kDeletedFile: return "deleted file";
    case FileKind::kRewrittenFile: return "rewritten file";
    case FileKind::kRewrittenKept: return "rewritten file (not saved: kept as found at restart)";
    case FileKind::kUnixSocket: return "unix-socket";
    case FileKind::kInetSocket: return "inet-socket";
    default: break;
  }
  if (const char* event = EventKindName(kind)) return event;
  return "unknown";
}

const char* SocketStateName(uint32_t state) {
  switch (state) {
    case kSockUnconnected: return "unconnected";
    case kSockListening: return "listening";
    case kSockConnected: return "connected";
    case kSockClosed: return "closed";
  }
  return "unknown";
}

std::string SocketLine(const SavedSocket& s) {
  std::string line = SocketKindText(s.rec) + " " + SocketStateName(s.rec.state) + " " + AddressText(s.local());
  if (s.rec.state == kSockConnected) line += " -> " + AddressText(s.peer());
  if (s.rec.state == kSockListening) line += " backlog " + std::to_string(s.rec.backlog) + ", " +
                                            std::to_string(s.pending.size()) + " waiting";
  if (s.rec.shutdown & kSockShutRead) line += " shut-rd";
  if (s.rec.shutdown & kSockShutWrite) line += " shut-wr";
  line += "  queued " + std::to_string(s.rec.message_count) + " message(s), " + Size(s.rec.queued_bytes);
  return line;
}

nlohmann::json SocketJson(const SavedSocket& s) {
  return {{"type", SocketKindText(s.rec)}, {"state", SocketStateName(s.rec.state)},
          {"local", AddressText(s.local())}, {"peer", AddressText(s.peer())},
          {"peer_inode", s.rec.peer_ino}, {"backlog", s.rec.backlog}, {"waiting_connections", s.pending.size()},
          {"shut_read", (s.rec.shutdown & kSockShutRead) != 0}, {"shut_write", (s.rec.shutdown & kSockShutWrite) != 0},
          {"sndbuf", s.rec.sndbuf}, {"rcvbuf", s.rec.rcvbuf}, {"options", s.rec.options},
          {"queued_messages", s.rec.message_count}, {"queued_bytes", s.rec.queued_bytes}};
}

std::string AccessMode(uint32_t flags) {
  std::string s = (flags & O_ACCMODE) == O_RDONLY ? "r" : (flags & O_ACCMODE) == O_WRONLY ? "w" : "rw";
  if (flags & O_APPEND) s += ",append";
  if (flags & O_NONBLOCK) s += ",nonblock";
  return s;
}

uint64_t SavedBytes(const ProcessImage& p, const VmaEntry& v) {
  uint64_t pages = 0;
  for (uint32_t i = 0; i < v.record.run_count; ++i) pages += p.runs[v.record.first_run + i].pages;
  return pages * kPageSize;
}

}  // namespace

// "exited with status 3" or "killed by signal 15 (Terminated)".
std::string WaitStatusText(int status) {
  if (WIFSIGNALED(status))
    return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

std::vector<ZombieRecord> ZombiesOf(const Image& img, int32_t parent) {
  std::vector<ZombieRecord> out;
  for (const ZombieRecord& z : img.zombies)
    if (z.ppid == parent) out.push_back(z);
  return out;
}

nlohmann::json ImageToJson(const Image& img) {
  using nlohmann::json;
  json j;
  j["format_version"] = img.header.version;
  j["created"] = Time(img.info.created_ns);
  j["created_unix_ns"] = img.info.created_ns;
  j["hostname"] = img.info.hostname;
  j["kernel"] = img.info.kernel_release;
  j["command"] = img.cmdline;
  j["uid"] = img.info.uid;
  j["gid"] = img.info.gid;
  j["root_pid"] = img.info.root_pid;
  j["pid_namespace"] = img.info.in_pid_namespace != 0;
  j["xcr0"] = HexText(img.header.xcr0);
  j["file_size"] = img.file_size;
  j["sections"] = img.section_count;
  if (img.clocks) j["clocks"] = {{"monotonic_ns", img.clocks->monotonic_ns}, {"boottime_ns", img.clocks->boottime_ns}};
  bool all_verified = true;
  json procs = json::array();
  for (const ProcessImage& p : img.processes) {
    const ProcessRecord& r = p.process;
    json jp;
    jp["pid"] = r.pid;
    jp["ppid"] = r.ppid;
    jp["pgid"] = r.pgid;
    jp["sid"] = r.sid;
    jp["comm"] = std::string(r.comm, strnlen(r.comm, sizeof r.comm));
    jp["exe"] = r.exe;
    jp["cwd"] = r.cwd;
    jp["umask"] = r.umask;
    json timers = json::array();
    const char* names[3] = {"real", "virtual", "prof"};
    for (int t = 0; t < 3; ++t)
      if (r.itimers[t][0] || r.itimers[t][1] || r.itimers[t][2] || r.itimers[t][3])
        timers.push_back({{"timer", names[t]}, {"interval_us", r.itimers[t][0] * 1000000 + r.itimers[t][1]},
                          {"value_us", r.itimers[t][2] * 1000000 + r.itimers[t][3]}});
    jp["interval_timers"] = timers;
    json threads = json::array();
    for (const ThreadRecord& t : p.threads)
      threads.push_back({{"tid", t.tid}, {"name", std::string(t.name, strnlen(t.name, sizeof t.name))},
                         {"fs_base", HexText(t.fs_base)}, {"sigmask", HexText(t.sigmask)},
                         {"rseq_registered", (t.flags & kThreadRseqRegistered) != 0}});
    jp["threads"] = threads;
    json handlers = json::array();
    for (size_t s = 0; s < p.sigactions.size(); ++s)
      if (p.sigactions[s].handler > 1)
        handlers.push_back({{"signal", s + 1}, {"handler", HexText(p.sigactions[s].handler)},
                            {"flags", HexText(p.sigactions[s].flags)}});
    jp["signal_handlers"] = handlers;
    json files = json::array();
    for (const FileEntry& f : p.files) {
      files.push_back({{"fd", f.record.fd}, {"kind", KindName(f.record.kind)}, {"path", f.path},
                       {"mode", AccessMode(f.record.flags)}, {"offset", f.record.offset},
                       {"cloexec", (f.record.fd_flags & FD_CLOEXEC) != 0}});
      if (f.record.kind == static_cast<uint32_t>(FileKind::kDeletedFile))
        files.back()["deleted_file"] = {{"size", f.record.size}, {"saved_bytes", f.data.size()},
                                        {"seals", f.record.reserved}, {"dev", f.record.dev},
                                        {"ino", f.record.ino}};
      else if (f.record.kind == static_cast<uint32_t>(FileKind::kRewrittenFile))
        files.back()["rewritten_file"] = {{"size", f.record.size}, {"saved_bytes", f.data.size()}};
      if (const EventEntry* e = EventFor(p, f.record.fd)) files.back()["event"] = EventToJson(*e, f);
      if (IsSocket(f)) files.back()["socket"] = SocketJson(ParseSocket(f));
    }
    jp["files"] = files;
    json vmas = json::array();
    uint64_t total = 0;
    for (const VmaEntry& v : p.vmas) {
      uint64_t saved = SavedBytes(p, v);
      total += saved;
      vmas.push_back({{"start", HexText(v.record.start)}, {"end", HexText(v.record.end)}, {"perms", Perms(v.record.flags)},
                      {"path", v.path.empty() ? (v.record.flags & kVmaHeap ? "[heap]" : v.record.flags & kVmaStack ? "[stack]" : "") : v.path},
                      {"size", v.record.end - v.record.start}, {"saved_bytes", saved}});
      if (!SharedObject(v.record).empty())
        vmas.back()["shared_object"] = {{"dev", v.record.dev}, {"ino", v.record.ino}, {"offset", v.record.file_offset}};
    }
    jp["memory_regions"] = vmas;
    jp["saved_bytes"] = total;
    jp["page_data_checksum"] = p.pages_verified ? "ok" : "not checked";
    json zombies = json::array();
    for (const ZombieRecord& z : ZombiesOf(img, p.process.pid))
      zombies.push_back({{"pid", z.pid}, {"pgid", z.pgid}, {"sid", z.sid}, {"wait_status", z.wait_status},
                         {"status", WaitStatusText(z.wait_status)}});
    jp["zombie_children"] = zombies;
    json signals = json::array(), posix_timers = json::array();
    for (const PendingSignalRecord& s : p.pending_signals) signals.push_back(PendingSignalJson(s));
    for (const PosixTimerRecord& t : p.posix_timers) posix_timers.push_back(PosixTimerJson(t));
    jp["pending_signals"] = signals;
    jp["posix_timers"] = posix_timers;
    json locks = json::array();
    for (const FileLockRecord& l : p.file_locks) locks.push_back(FileLockJson(l));
    jp["file_locks"] = locks;
    all_verified &= p.pages_verified;
    procs.push_back(jp);
  }
  j["processes"] = procs;
  j["checksums"] = all_verified ? "ok" : "metadata ok, page data not checked";
  return j;
}

void PrintImage(const Image& img, std::ostream& out) {
  out << "Image:          " << img.path << " (" << Size(img.file_size) << ", format version " << img.header.version
      << ")\n";
  out << "Taken:          " << Time(img.info.created_ns) << " on " << img.info.hostname << ", kernel "
      << img.info.kernel_release << "\n";
  out << "Command:        " << img.cmdline << "\n";
  out << "Owner:          uid " << img.info.uid << ", gid " << img.info.gid << "\n";
  out << "Processes:      " << img.processes.size() << (img.info.in_pid_namespace ? " (in a private pid namespace)" : "")
      << "\n";
  bool all_verified = true;
  for (const ProcessImage& p : img.processes) all_verified &= p.pages_verified;
  out << "Checksums:      " << (all_verified ? "all sections ok" : "metadata ok, page data not checked") << "\n";
  if (img.clocks) {
    char line[128];
    snprintf(line, sizeof line, "Clocks:         monotonic %.6f s, boottime %.6f s (go on from here at restart)\n",
             static_cast<double>(img.clocks->monotonic_ns) / 1e9, static_cast<double>(img.clocks->boottime_ns) / 1e9);
    out << line;
  }
  for (const ProcessImage& p : img.processes) {
    const ProcessRecord& r = p.process;
    out << "\nProcess " << r.pid << " (" << std::string(r.comm, strnlen(r.comm, sizeof r.comm)) << "), parent "
        << r.ppid << ", group " << r.pgid << ", session " << r.sid << "\n";
    out << "  exe " << r.exe << "\n  cwd " << r.cwd << ", umask " << std::oct << r.umask << std::dec << "\n";
    for (const ThreadRecord& t : p.threads)
      out << "  thread " << t.tid << " \"" << std::string(t.name, strnlen(t.name, sizeof t.name)) << "\" fs_base "
          << HexText(t.fs_base) << " blocked " << HexText(t.sigmask) << "\n";
    for (size_t s = 0; s < p.sigactions.size(); ++s)
      if (p.sigactions[s].handler > 1)
        out << "  signal " << s + 1 << " handler " << HexText(p.sigactions[s].handler) << "\n";
    for (const PendingSignalRecord& s : p.pending_signals) out << "  " << PendingSignalLine(s) << "\n";
    for (const PosixTimerRecord& t : p.posix_timers) out << "  " << PosixTimerLine(t) << "\n";
    out << "  open files:\n";
    for (const FileEntry& f : p.files) {
      out << "    fd " << f.record.fd << "  " << KindName(f.record.kind) << " " << AccessMode(f.record.flags);
      if (IsSocket(f)) {
        out << "  " << SocketLine(ParseSocket(f)) << "\n";
        continue;
      }
      out << "  offset " << f.record.offset << "  " << f.path
          << (f.record.kind == static_cast<uint32_t>(FileKind::kDeletedFile) ||
                      f.record.kind == static_cast<uint32_t>(FileKind::kRewrittenFile)
                  ? "  size " + std::to_string(f.record.size) + ", saved " + Size(f.data.size()) +
                        (f.data.empty() && f.record.size ? " (with an earlier fd)" : "")
                  : std::string())
          << (EventFor(p, f.record.fd) ? "  " + EventSummary(*EventFor(p, f.record.fd), f) : std::string())
          << (f.record.kind == static_cast<uint32_t>(FileKind::kPipe) && (f.record.reserved & kPipeOtherEndGone)
                  ? "  (its other end is closed)"
                  : "")
          << "\n";
      for (const FileLockRecord& l : p.file_locks)
        if (l.fd == f.record.fd) out << "      " << FileLockLine(l) << "\n";
    }
    uint64_t total = 0;
    out << "  memory regions:\n";
    for (const VmaEntry& v : p.vmas) {
      uint64_t saved = SavedBytes(p, v);
      total += saved;
      char line[160];
      snprintf(line, sizeof line, "    %012llx-%012llx %s %10s saved %10s  ",
               static_cast<unsigned long long>(v.record.start), static_cast<unsigned long long>(v.record.end),
               Perms(v.record.flags).c_str(), Size(v.record.end - v.record.start).c_str(), Size(saved).c_str());
      out << line
          << (v.path.empty() ? (v.record.flags & kVmaHeap ? "[heap]" : v.record.flags & kVmaStack ? "[stack]" : "")
                             : v.path)
          << (SharedObject(v.record).empty() ? "" : "  " + SharedObject(v.record)) << "\n";
    }
    out << "  saved memory: " << Size(total) << " in " << p.runs.size() << " runs\n";
    for (const ZombieRecord& z : ZombiesOf(img, r.pid))
      out << "  zombie child " << z.pid << " (not reaped yet), group " << z.pgid << ", session " << z.sid << ": "
          << WaitStatusText(z.wait_status) << "\n";
  }
}

}  // namespace reprise::cr
