// The agent: preloaded by cr_run into every process of a checkpointable
// program. At load it opens a private control socket and installs the
// checkpoint signal handler. cr_checkpoint connects, sends the signal, and the
// handler (running in the interrupted thread) writes this process's part of
// the image, then waits to be told to resume. After a restart the restorer
// jumps back into that same handler, which re-applies per-process kernel
// state and returns, so rt_sigreturn restores every register of the program.
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "agent_state.h"
#include "dump_socket.h"
#include "threads.h"
#include "format/control_protocol.h"

namespace reprise::cr::agent {

AgentState g_agent;

namespace {

// The control socket sits above the fds programs normally use.
constexpr int kControlFdFloor = 1000;

bool MakeSocketName(sockaddr_un& addr, socklen_t& len) {
  struct stat st;
  if (stat("/proc/self/ns/pid", &st) != 0) return false;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  char* p = addr.sun_path + 1;  // abstract namespace
  p = AppendStr(p, kControlSocketPrefix);
  p = AppendDec(p, st.st_ino);
  p = AppendStr(p, ".");
  p = AppendDec(p, static_cast<uint64_t>(getpid()));
  len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + (p - addr.sun_path));
  return true;
}

bool SendMessage(int fd, const ControlMessage& m) {
  for (;;) {
    ssize_t n = send(fd, &m, sizeof m, MSG_NOSIGNAL);
    if (n == static_cast<ssize_t>(sizeof m)) return true;
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
}

// Receives one message; a kDump carries the image fd.
bool ReceiveMessage(int fd, ControlMessage& m, int* passed_fd) {
  *passed_fd = -1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  iovec iov{&m, sizeof m};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(sizeof m)) return false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(passed_fd, CMSG_DATA(c), sizeof(int));
  return true;
}

bool PeerMayCheckpoint(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  return cred.uid == 0 || cred.uid == getuid();
}

// Accepts the next live checkpoint request. cr_checkpoint sends kRequest
// right after connecting, before it signals us; connections left behind by an
// attempt that gave up (closed by now) are dropped.
int AcceptRequest() {
  for (;;) {
    int conn = accept4(g_agent.listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (conn < 0) return -1;
    ControlMessage m{};
    pollfd p{conn, POLLRDHUP, 0};
    bool hung_up = poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP));
    if (!hung_up && recv(conn, &m, sizeof m, MSG_DONTWAIT) == static_cast<ssize_t>(sizeof m) &&
        m.op == static_cast<uint32_t>(ControlOp::kRequest))
      return conn;
    close(conn);
  }
}

enum class DumpOutcome { kWritten, kFailed, kRestored };

// Writes this process's sections. Returns twice when the image is restarted:
// the second time with kRestored, inside the restarted process.
DumpOutcome DumpThisProcess(int fd, uint32_t owner, const ucontext_t* uc, DumpError& err) {
  static_assert(std::is_trivially_default_constructible_v<AgentState>);
  if (!g_agent.arena.Map(256ul << 20)) {
    err.Set(ENOMEM, "cannot map the agent's scratch memory");
    return DumpOutcome::kFailed;
  }
  g_agent.extra_sections = 0;
  __atomic_store_n(&g_agent.pending_count, 0, __ATOMIC_RELEASE);
  __atomic_store_n(&g_agent.pending_overflow, 0, __ATOMIC_RELEASE);
  bool ok = StopOtherThreads(err);
  if (ok) {
    FillThread(g_agent.threads[0], uc);
    // The park point: everything below is skipped after a restart.
    void* restored = reprise_park(&g_agent.threads[0].park);
    if (restored) {
      RestoreThread(static_cast<restore_info*>(restored), g_agent.threads[0], /*coordinator=*/true);
      return DumpOutcome::kRestored;
    }
    // Memory refusals (SysV shm, deleted mappings) come before any write; an
    // fd refusal after a few metadata bytes just discards the temp image.
    ok = SaveProcessSignalsAndTimers(err) && CollectProcessState(err) && RefuseSysvIpc(err) && SurveyMemory(err) &&
         WriteProcessState(fd, owner, err) && WriteMemory(fd, owner, err);
  }
  RequeueSignals();  // the program goes on (or is killed): its pending signals are its own again
  ResumeOtherThreads();
  g_agent.arena.Unmap();
  return ok ? DumpOutcome::kWritten : DumpOutcome::kFailed;
}

void CheckpointHandler(int, siginfo_t*, void* context) {
  int saved_errno = errno;
  if (CheckpointInProgressElsewhere()) {  // we are one of the other threads
    ParkThisThread(static_cast<const ucontext_t*>(context));
    errno = saved_errno;
    return;
  }
  int conn = AcceptRequest();
  if (conn < 0) {  // a stray signal, not a checkpoint request
    errno = saved_errno;
    return;
  }
  ControlMessage hello{};
  hello.op = static_cast<uint32_t>(ControlOp::kHello);
  hello.pid = getpid();
  if (!PeerMayCheckpoint(conn)) {
    hello.status = EPERM;
    SendMessage(conn, hello);
    close(conn);
    errno = saved_errno;
    return;
  }
  g_agent.conn_fd = conn;
  SendMessage(conn, hello);
  for (;;) {
    ControlMessage m{};
    int image_fd = -1;
    if (!ReceiveMessage(conn, m, &image_fd)) break;  // checkpointer gone: resume
    if (m.op == static_cast<uint32_t>(ControlOp::kResume)) break;
    if (m.op != static_cast<uint32_t>(ControlOp::kDump) || image_fd < 0) continue;
    g_agent.image_fd = image_fd;
    g_agent.rewritten_policy = m.status;
    g_agent.rewritten_limit = m.bytes && m.bytes <= kMaxRewrittenFileBytes ? m.bytes : kDefaultRewrittenFileBytes;
    DumpError err;
    off_t start = lseek(image_fd, 0, SEEK_CUR);
    g_dumped_socket = false;
    DumpOutcome outcome = DumpThisProcess(image_fd, m.owner, static_cast<const ucontext_t*>(context), err);
    if (outcome == DumpOutcome::kRestored) {
      // We are in the restarted process: the connection and image fd of the
      // checkpoint do not exist here. Return into the program.
      errno = saved_errno;
      return;
    }
    ControlMessage done{};
    done.op = static_cast<uint32_t>(ControlOp::kDumpDone);
    done.status = outcome == DumpOutcome::kWritten ? 0 : (err.code ? err.code : EIO);
    done.bytes = static_cast<uint64_t>(lseek(image_fd, 0, SEEK_CUR) - start);
    done.reserved = g_agent.extra_sections;  // sections beyond the kSectionsPerProcess fixed ones
    done.flags = g_dumped_socket ? kDoneHadSockets : 0;
    CopyStr(done.text, err.text, sizeof done.text);
    close(image_fd);
    g_agent.image_fd = -1;
    SendMessage(conn, done);
  }
  close(conn);
  g_agent.conn_fd = -1;
  errno = saved_errno;
}

void InstallHandler() {
  struct sigaction sa {};
  sa.sa_sigaction = CheckpointHandler;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigfillset(&sa.sa_mask);
  using SigactionFn = int (*)(int, const struct sigaction*, struct sigaction*);
  static auto real = reinterpret_cast<SigactionFn>(dlsym(RTLD_NEXT, "sigaction"));
  if (real) real(g_agent.checkpoint_signal, &sa, nullptr);
}

void AfterForkInChild() {
  // The parent's socket name carries the parent's pid: get our own.
  if (g_agent.listen_fd >= 0) close(g_agent.listen_fd);
  g_agent.listen_fd = -1;
  OpenControlSocket();
}

__attribute__((constructor)) void AgentInit() {
  g_agent.listen_fd = g_agent.conn_fd = g_agent.image_fd = -1;
  const char* sig = getenv("REPRISE_CR_SIGNAL");
  g_agent.checkpoint_signal = sig ? atoi(sig) : kDefaultCheckpointSignal;
  if (g_agent.checkpoint_signal <= 0 || g_agent.checkpoint_signal >= 65)
    g_agent.checkpoint_signal = kDefaultCheckpointSignal;
  // Handler first: once the socket accepts connections, cr_checkpoint may
  // send the signal, whose default action would kill us.
  ResolveExecFunctions();
  InstallHandler();
  UnblockCheckpointSignal();  // blocked by the exec that started us, if an agent did it
  OpenControlSocket();
  pthread_atfork(nullptr, nullptr, AfterForkInChild);
}

}  // namespace

bool OpenControlSocket() {
  sockaddr_un addr;
  socklen_t len;
  if (!MakeSocketName(addr, len)) return false;
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 || listen(fd, 8) != 0) {
    close(fd);
    return false;
  }
  // After a restart reuse the fd number the program saw before; otherwise
  // pick a high one so it does not collide with the program's own fds.
  int target = g_agent.listen_fd >= 0 ? g_agent.listen_fd : kControlFdFloor;
  int moved = g_agent.listen_fd >= 0 ? dup3(fd, target, O_CLOEXEC) : fcntl(fd, F_DUPFD_CLOEXEC, target);
  if (moved >= 0 && moved != fd) {
    close(fd);
    fd = moved;
  }
  g_agent.listen_fd = fd;
  return true;
}

}  // namespace reprise::cr::agent

// Programs may not take the checkpoint signal away from the agent: changes to
// its action are refused and it is never blocked. glibc's own signal() goes
// through sigaction internally, so these cover the common paths.
#define REPRISE_EXPORT __attribute__((visibility("default")))

extern "C" {

REPRISE_EXPORT int sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  using Fn = int (*)(int, const struct sigaction*, struct sigaction*);
  static auto real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "sigaction"));
  if (sig == reprise::cr::agent::g_agent.checkpoint_signal && act) {
    errno = EINVAL;
    return -1;
  }
  return real(sig, act, old);
}

static sigset_t WithoutCheckpointSignal(const sigset_t* set) {
  sigset_t copy = *set;
  sigdelset(&copy, reprise::cr::agent::g_agent.checkpoint_signal);
  return copy;
}

REPRISE_EXPORT int sigprocmask(int how, const sigset_t* set, sigset_t* old) {
  using Fn = int (*)(int, const sigset_t*, sigset_t*);
  static auto real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "sigprocmask"));
  if (!set || how == SIG_UNBLOCK) return real(how, set, old);
  sigset_t copy = WithoutCheckpointSignal(set);
  return real(how, &copy, old);
}

REPRISE_EXPORT int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  using Fn = int (*)(int, const sigset_t*, sigset_t*);
  static auto real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "pthread_sigmask"));
  if (!set || how == SIG_UNBLOCK) return real(how, set, old);
  sigset_t copy = WithoutCheckpointSignal(set);
  return real(how, &copy, old);
}

}  // extern "C"
