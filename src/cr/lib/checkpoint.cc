#include "lib/checkpoint.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <vector>

#include "format/control_protocol.h"
#include "format/hash.h"
#include "lib/event_shares.h"
#include "lib/process_tree.h"
#include "lib/socket_check.h"
#include "lib/system_facts.h"
#include "lib/time_namespace.h"

namespace reprise::cr {
namespace {

struct Failure {
  int code;
  std::string message;
};

// One control connection to the agent of one process.
class AgentLink {
 public:
  explicit AgentLink(const ProcInfo& p) : proc_(p) {}
  ~AgentLink() {
    if (fd_ >= 0) close(fd_);
  }
  AgentLink(const AgentLink&) = delete;
  AgentLink& operator=(const AgentLink&) = delete;

  bool Connect() {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string name = std::string(kControlSocketPrefix) + std::to_string(proc_.pidns_inode) + "." +
                       std::to_string(proc_.ns_pid);
    memcpy(addr.sun_path + 1, name.data(), name.size());
    fd_ = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    return connect(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0 && Send(ControlOp::kRequest);
  }

  bool Send(ControlOp op, uint32_t owner = 0, int pass_fd = -1, int32_t status = 0, uint64_t bytes = 0) {
    ControlMessage m{};
    m.op = static_cast<uint32_t>(op);
    m.owner = owner;
    m.status = status;
    m.bytes = bytes;
    iovec iov{&m, sizeof m};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (pass_fd >= 0) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
    }
    return sendmsg(fd_, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof m);
  }

  // Waits up to timeout_ms (-1: forever) for one message; *closed tells a
  // connection the agent's side closed (its process exec'd or exited).
  bool Receive(ControlMessage& m, int timeout_ms, bool* closed = nullptr) {
    pollfd p{fd_, POLLIN, 0};
    int r;
    do r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r <= 0) return false;
    ssize_t n = recv(fd_, &m, sizeof m, 0);
    // EOF, or ECONNRESET when it went while we were still in its backlog.
    if (closed) *closed = n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
    return n == static_cast<ssize_t>(sizeof m);
  }

  void Disconnect() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  const ProcInfo& proc() const { return proc_; }

 private:
  ProcInfo proc_;
  int fd_ = -1;
};

std::string ReadCmdline(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && s.back() == '\0') s.pop_back();
  for (char& c : s)
    if (c == '\0') c = ' ';
  return s;
}

int CheckpointSignal() {
  const char* s = getenv("REPRISE_CR_SIGNAL");
  int sig = s ? atoi(s) : kDefaultCheckpointSignal;
  return sig > 0 && sig < 65 ? sig : kDefaultCheckpointSignal;
}

double Seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

uint64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void WriteOrThrow(int fd, const void* data, size_t len, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      throw Failure{e, "Checkpoint failed: writing '" + path + "': " + strerror(e)};
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
}

void WriteSection(int fd, SectionType type, const std::string& payload, const std::string& path) {
  off_t at = lseek(fd, 0, SEEK_CUR);
  SectionHeader h{};
  h.magic = kSectionMagic;
  h.type = static_cast<uint32_t>(type);
  h.owner = kImageWide;
  h.payload_offset = static_cast<uint64_t>(at) + sizeof h;
  h.payload_size = payload.size();
  h.payload_hash = reprise_hash(payload.data(), payload.size());
  h.header_hash = reprise_hash(&h, offsetof(SectionHeader, header_hash));
  WriteOrThrow(fd, &h, sizeof h, path);
  WriteOrThrow(fd, payload.data(), payload.size(), path);
}

std::string ImageInfoPayload(const std::vector<ProcInfo>& scope, const CheckpointRequest& req, uint64_t created,
                             bool in_namespace) {
  ImageInfo info{};
  info.created_ns = created;
  info.uid = scope[0].uid;
  info.gid = scope[0].gid;
  info.process_count = static_cast<uint32_t>(scope.size());
  info.scope = req.scope;
  info.root_pid = scope[0].ns_pid;
  info.root_host_pid = scope[0].pid;
  info.in_pid_namespace = in_namespace ? 1 : 0;
  std::string cmd = ReadCmdline(scope[0].pid);
  info.cmdline_len = static_cast<uint32_t>(cmd.size());
  strncpy(info.hostname, Hostname().c_str(), sizeof info.hostname - 1);
  strncpy(info.kernel_release, KernelRelease().c_str(), sizeof info.kernel_release - 1);
  VdsoFacts vdso = CurrentVdso();
  info.vdso_hash = vdso.hash;
  info.vdso_size = vdso.size;
  std::string payload(reinterpret_cast<const char*>(&info), sizeof info);
  return payload + cmd;
}

FileHeader MakeFileHeader(uint64_t created) {
  FileHeader h{};
  memcpy(h.magic, kImageMagic, sizeof h.magic);
  h.version = kFormatVersion;
  h.header_size = sizeof h;
  h.arch = kArchX86_64;
  h.xcr0 = CurrentXcr0();
  h.xsave_size = CurrentXsaveSize();
  h.created_ns = created;
  h.header_hash = reprise_hash(&h, offsetof(FileHeader, header_hash));
  return h;
}

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The temp file: removed unless committed.
class TempImage {
 public:
  TempImage(const std::string& final_path, const ProcInfo& owner) : final_(final_path) {
    temp_ = DirOf(final_path) + "/." + BaseOf(final_path) + ".tmp." + std::to_string(getpid());
    // Unnamed until Commit (O_TMPFILE), so a checkpointer killed while writing (qdel of a job
    // being checkpointed) leaves nothing behind. File systems without O_TMPFILE get a named temp file.
    fd_ = open(DirOf(final_path).c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0400);
    if (fd_ >= 0) {
      named_ = false;
    } else if (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL) {
      fd_ = open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
    }
    if (fd_ < 0) {
      int e = errno;
      throw Failure{e, "Unable to open file '" + final_path + "': " + strerror(e)};
    }
    // Images are readable only by the owner of the checkpointed processes.
    if (geteuid() == 0 && owner.uid != 0 && fchown(fd_, owner.uid, owner.gid) != 0) {
      int e = errno;
      throw Failure{e, "Unable to give '" + final_path + "' to its owner: " + strerror(e)};
    }
  }
  ~TempImage() {
    if (fd_ >= 0) close(fd_);
    if (!committed_ && named_) unlink(temp_.c_str());
  }
  TempImage(const TempImage&) = delete;
  TempImage& operator=(const TempImage&) = delete;

  int fd() const { return fd_; }

  void Commit() {
    if (fsync(fd_) != 0) {
      int e = errno;
      throw Failure{e, "Checkpoint failed: syncing '" + final_ + "': " + strerror(e)};
    }
    if (!named_) Name();  // O_TMPFILE: no name until now
    close(fd_);
    fd_ = -1;
    if (rename(temp_.c_str(), final_.c_str()) != 0) {
      int e = errno;
      throw Failure{e, "Checkpoint failed: renaming into '" + final_ + "': " + strerror(e)};
    }
    committed_ = true;
    int dir = open(DirOf(final_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      fsync(dir);
      close(dir);
    }
  }

 private:
  // Gives the unnamed file its temp name (then renamed over the final name, as before). Through
  // /proc/self/fd first: linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH.
  void Name() {
    std::string proc = "/proc/self/fd/" + std::to_string(fd_);
    if (linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, temp_.c_str(), AT_SYMLINK_FOLLOW) != 0 &&
        linkat(fd_, "", AT_FDCWD, temp_.c_str(), AT_EMPTY_PATH) != 0) {
      int e = errno;
      throw Failure{e, "Checkpoint failed: naming '" + final_ + "': " + strerror(e)};
    }
    named_ = true;
  }

  std::string final_, temp_;
  int fd_ = -1;
  bool named_ = true;  // temp_ exists on disk (removed unless committed); false for O_TMPFILE until Commit
  bool committed_ = false;
};

// A process whose main thread has exited while other threads still run looks
// like a zombie in /proc, but is not one: usually a process in the middle of
// exiting, so Checkpoint() retries; pthread_exit() in main keeps it so.
Failure ExitingFailure(pid_t pid) {
  return {EAGAIN, "Checkpoint failed: pid " + std::to_string(pid) +
                      " is exiting (its main thread has ended while other threads still run; a program that calls"
                      " pthread_exit in main cannot be checkpointed); try again"};
}

// A zombie: exited, not reaped yet. It is saved (see ZombieRecord) unless it
// is the root of the scope, which has ended.
bool IsZombie(const ProcInfo& p, pid_t root) {
  if (p.state != 'Z') return false;
  if (p.threads > 1) throw ExitingFailure(p.pid);
  if (p.pid == root)
    throw Failure{ESRCH, "Checkpoint failed: pid " + std::to_string(p.pid) + " has exited: nothing to checkpoint"};
  return true;
}

// True if pid is no longer a live process: reaped, or a zombie (saved from
// the final scan if its parent is checkpointed).
bool Vanished(pid_t pid, pid_t root) {
  auto p = ReadProc(pid);
  return !p || IsZombie(*p, root);
}

// The zombies of the final scan whose parent is checkpointed, in the pid
// namespace's numbers. Every live process is stopped now, so none is reaped
// meanwhile. One that dumped core is retried: its core bit cannot be restored.
std::vector<ZombieRecord> ZombiesOf(const std::vector<ProcInfo>& scope,
                                    const std::vector<std::unique_ptr<AgentLink>>& links) {
  std::map<pid_t, pid_t> ns_pid;  // host pid -> pid in the tree's namespace
  for (const ProcInfo& p : scope) ns_pid[p.pid] = p.ns_pid;
  std::set<pid_t> parents;
  for (auto& link : links) parents.insert(link->proc().pid);
  auto in_ns = [&](pid_t host) { return ns_pid.count(host) ? ns_pid[host] : 0; };
  std::vector<ZombieRecord> out;
  for (const ProcInfo& p : scope) {
    if (p.state != 'Z' || !parents.count(p.ppid)) continue;
    if (WCOREDUMP(p.exit_code))
      throw Failure{EAGAIN, "Checkpoint failed: pid " + std::to_string(p.pid) +
                                " dumped core and was not reaped yet (its core-dump status cannot be restored);"
                                " try again"};
    out.push_back({p.ns_pid, in_ns(p.ppid), in_ns(p.pgid), in_ns(p.sid), p.exit_code, 0});
  }
  return out;
}

std::vector<ProcInfo> ResolveScope(const CheckpointRequest& req) {
  std::string pid_text = std::to_string(req.id);
  if (req.id <= 0 || !ReadProc(req.id))
    throw Failure{ESRCH, "Checkpoint failed: no processes checkpointed: pid " + pid_text + ": No such process"};
  pid_t root = req.scope == kScopeTree || req.scope == kScopePid ? ResolveLauncher(req.id) : req.id;
  std::vector<ProcInfo> scope = CollectScope(root, req.scope);
  if (scope.empty())
    throw Failure{ESRCH, "Checkpoint failed: no processes checkpointed: " + pid_text + ": No such process"};
  for (const ProcInfo& p : scope) {
    if (geteuid() != 0 && p.uid != geteuid())
      throw Failure{EPERM, "Checkpoint failed: pid " + std::to_string(p.pid) +
                               " belongs to another user: Operation not permitted"};
  }
  return scope;
}

// Connects to the agent of p; a process just past exec has not loaded its
// agent yet, so it gets a moment before we conclude it has none. Returns
// null if the process exits meanwhile.
std::unique_ptr<AgentLink> ConnectToAgent(const ProcInfo& p, pid_t root) {
  auto link = std::make_unique<AgentLink>(p);
  for (int tries = 0; !link->Connect(); ++tries) {
    auto again = ReadProc(p.pid);
    if (!again || IsZombie(*again, root)) return nullptr;  // not live: the final scan decides
    // A vfork child shares its parent's memory (and agent) until it execs,
    // and the parent waits uninterruptibly: neither can be checkpointed now.
    if (auto parent = ReadProc(again->ppid); parent && parent->state == 'D')
      throw Failure{EAGAIN, "Checkpoint failed: pid " + std::to_string(p.pid) + " is a vfork child of pid " +
                                std::to_string(again->ppid) + " that has not exec'd yet; try again"};
    if (tries == 20)
      throw Failure{EOPNOTSUPP, "Checkpoint failed: support missing from application (pid " + std::to_string(p.pid) +
                                    " was not started under cr_run)"};
    usleep(50000);
    link = std::make_unique<AgentLink>(*again);
  }
  return link;
}

CheckpointOutcome CheckpointOnce(const CheckpointRequest& req) {
  CheckpointOutcome out;
  std::vector<std::unique_ptr<AgentLink>> links;
  auto resume_all = [&] {
    for (auto& link : links) {
      link->Send(ControlOp::kResume);
      link->Disconnect();
    }
  };
  try {
    double t0 = Seconds();
    std::vector<ProcInfo> scope = ResolveScope(req);
    // Stop everything first, so the image is one consistent moment. A
    // process may fork while we stop the others: repeat until the scope
    // holds no process we have not stopped.
    std::set<pid_t> stopped;
    int sig = CheckpointSignal();
    pid_t root = scope[0].pid;
    while (true) {
      std::vector<AgentLink*> batch;
      for (const ProcInfo& p : scope) {
        if (stopped.count(p.pid)) continue;
        if (p.tracer)
          throw Failure{EBUSY, "Checkpoint failed: pid " + std::to_string(p.pid) + " is being traced by pid " +
                                   std::to_string(p.tracer) + "; detach the debugger first"};
        if (IsZombie(p, root)) continue;
        stopped.insert(p.pid);
        std::unique_ptr<AgentLink> link = ConnectToAgent(p, root);
        if (!link) continue;  // exited and reaped meanwhile: not part of the moment we save
        links.push_back(std::move(link));
        batch.push_back(links.back().get());
      }
      if (batch.empty()) break;
      std::set<AgentLink*> gone;
      for (AgentLink* link : batch)
        if (kill(link->proc().pid, sig) != 0) {
          int e = errno;
          if (e == ESRCH && link->proc().pid != root) {
            gone.insert(link);
            continue;
          }
          throw Failure{e, "Checkpoint failed: pid " + std::to_string(link->proc().pid) + ": " + strerror(e)};
        }
      for (AgentLink* link : batch) {
        if (gone.count(link)) continue;
        ControlMessage hello{};
        bool closed = false;
        bool answered = link->Receive(hello, req.hello_timeout_ms, &closed) &&
                        hello.op == static_cast<uint32_t>(ControlOp::kHello);
        if (!answered && link->proc().pid != root && Vanished(link->proc().pid, root)) {
          gone.insert(link);
          continue;
        }
        if (!answered && closed && ReadProc(link->proc().pid))  // its agent went with an exec
          throw Failure{EAGAIN, "Checkpoint failed: pid " + std::to_string(link->proc().pid) +
                                    " started a new program (exec) during the checkpoint; try again"};
        if (!answered) {
          auto now = ReadProc(link->proc().pid);
          std::string why = !now              ? "it exited"
                            : now->state == 'D' ? "it is in an uninterruptible wait (a vfork in progress?)"
                            : now->state == 'T' ? "it is stopped (SIGCONT it first)"
                                                : "it is blocking the checkpoint signal or exiting";
          throw Failure{ETIMEDOUT, "Checkpoint failed: pid " + std::to_string(link->proc().pid) +
                                       " did not answer the checkpoint request: " + why + "; try again"};
        }
        if (hello.status == EPERM)
          throw Failure{EPERM, "Checkpoint failed: pid " + std::to_string(link->proc().pid) +
                                   " refused: only its owner may checkpoint it (it runs in a user namespace, where"
                                   " root is not its owner): Operation not permitted"};
      }
      std::erase_if(links, [&](const std::unique_ptr<AgentLink>& l) { return gone.count(l.get()) > 0; });
      scope = CollectScope(req.scope == kScopeTree || req.scope == kScopePid ? root : req.id, req.scope);
      if (scope.empty()) throw Failure{ESRCH, "Checkpoint failed: pid " + std::to_string(root) + ": No such process"};
    }
    std::vector<ZombieRecord> zombies = ZombiesOf(scope, links);
    scope.clear();
    for (auto& link : links) scope.push_back(link->proc());
    ClockRecord clocks = TreeClocksNow(scope[0].pid);  // what the stopped tree's clocks read
    if (std::string why = CheckOneTimeNamespace(scope); !why.empty())
      throw Failure{ENOTSUP, "Checkpoint failed: " + why};

    double t1 = Seconds();
    out.stop_seconds = t1 - t0;
    out.path = req.file.empty() ? "context." + std::to_string(req.id) : req.file;
    TempImage image(out.path, scope[0]);
    uint64_t created = NowNs();
    auto self_ns = ReadProc(getpid());
    bool in_namespace = self_ns && self_ns->pidns_inode != scope[0].pidns_inode;
    FileHeader header = MakeFileHeader(created);
    WriteOrThrow(image.fd(), &header, sizeof header, out.path);
    WriteSection(image.fd(), SectionType::kImageInfo, ImageInfoPayload(scope, req, created, in_namespace), out.path);
    WriteSection(image.fd(), SectionType::kClocks, std::string(reinterpret_cast<const char*>(&clocks), sizeof clocks),
                 out.path);
    uint64_t checkpointer_sections = 2;  // IMAGE_INFO, CLOCKS; and ZOMBIES below

    uint64_t optional_sections = 0;
    std::vector<bool> has_optional(links.size(), false);
    bool had_sockets = false;
    for (uint32_t i = 0; i < links.size(); ++i) {
      AgentLink& link = *links[i];
      ControlMessage done{};
      if (!link.Send(ControlOp::kDump, i, image.fd(), req.rewritten_policy, req.rewritten_limit) ||
          !link.Receive(done, -1) ||
          done.op != static_cast<uint32_t>(ControlOp::kDumpDone))
        throw Failure{EIO, "Checkpoint failed: pid " + std::to_string(link.proc().pid) + " died during the checkpoint"};
      if (done.status != 0) {
        std::string text(done.text, strnlen(done.text, sizeof done.text));
        if (done.status == ENOSPC || done.status == EDQUOT || done.status == EIO)
          throw Failure{done.status, "Checkpoint failed: writing '" + out.path + "': " + strerror(done.status)};
        throw Failure{done.status, "Checkpoint failed: pid " + std::to_string(link.proc().pid) + ": " + text};
      }
      had_sockets |= (done.flags & kDoneHadSockets) != 0;
      optional_sections += done.reserved;
      has_optional[i] = done.reserved > 0;
    }
    if (optional_sections) {  // some process holds event fds (or other optional state): which are shared?
      std::vector<pid_t> host_pids;
      for (auto& link : links) host_pids.push_back(link->proc().pid);
      EventShareScan scan = ScanEventShares(host_pids, has_optional);
      if (!scan.refusal.empty()) throw Failure{scan.code, "Checkpoint failed: " + scan.refusal};
      if (!scan.shares.empty()) {
        WriteSection(image.fd(), SectionType::kEventShares,
                     std::string(reinterpret_cast<const char*>(scan.shares.data()),
                                  scan.shares.size() * sizeof(EventShare)),
                     out.path);
        ++optional_sections;
      }
    }
    if (!zombies.empty()) {
      WriteSection(image.fd(), SectionType::kZombies,
                   std::string(reinterpret_cast<const char*>(zombies.data()), zombies.size() * sizeof(ZombieRecord)),
                   out.path);
      ++checkpointer_sections;
    }
    off_t at = lseek(image.fd(), 0, SEEK_CUR);  // past any zero-length page data
    EndRecord end{checkpointer_sections + kSectionsPerProcess * links.size() + optional_sections, static_cast<uint64_t>(at) + sizeof(SectionHeader) + sizeof(EndRecord)};
    WriteSection(image.fd(), SectionType::kEnd, std::string(reinterpret_cast<const char*>(&end), sizeof end), out.path);
    out.bytes = end.file_size;
    if (had_sockets) {  // are their peers inside the job? (only the whole image tells)
      std::vector<int> host_pids;
      for (auto& link : links) host_pids.push_back(link->proc().pid);
      std::string why =
          CheckImageSockets("/proc/self/fd/" + std::to_string(image.fd()), req.external_sockets_closed, host_pids);
      if (!why.empty()) throw Failure{ENOTSUP, "Checkpoint failed: " + why};
    }
    double t2 = Seconds();
    out.write_seconds = t2 - t1;
    image.Commit();
    out.sync_seconds = Seconds() - t2;
    out.processes = static_cast<int>(links.size());
  } catch (const Failure& f) {
    resume_all();
    out.exit_code = f.code;
    out.message = f.message;
    return out;
  }
  // The image is durable: now the requested fate of the processes.
  if (req.signal_after == SIGKILL) {
    for (auto& link : links) kill(link->proc().pid, SIGKILL);
    for (auto& link : links) link->Disconnect();
    return out;
  }
  if (req.stop_before_resume)
    for (auto& link : links) kill(link->proc().pid, SIGSTOP);
  resume_all();
  if (req.signal_after)
    for (auto& link : links) kill(link->proc().pid, req.signal_after);
  return out;
}

}  // namespace

CheckpointOutcome Checkpoint(const CheckpointRequest& req) {
  // A child that just exited and is not reaped yet (a zombie), or a vfork
  // child that has not exec'd, makes an attempt fail with EAGAIN; these states
  // normally last moments, so try again. A job script forking commands in a
  // loop makes a fresh zombie in most attempts (its parent is frozen before it
  // can reap), so give it ten seconds: each attempt that fails costs ~50 ms.
  double give_up = Seconds() + 10.0;
  for (;;) {
    CheckpointOutcome out = CheckpointOnce(req);
    if (out.exit_code != EAGAIN || Seconds() > give_up) return out;
    usleep(50000);
  }
}

}  // namespace reprise::cr
