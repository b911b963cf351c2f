#include "lib/restart.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "lib/image_reader.h"
#include "lib/owner_file_access.h"
#include "lib/pid_namespace.h"
#include "lib/restart_child.h"
#include "lib/restore_files.h"
#include "lib/shared_memory.h"
#include "lib/system_facts.h"
#include "lib/time_namespace.h"
#include "restorer/restore_plan.h"

namespace reprise::cr {
namespace {

using Failure = RestartError;

void CheckCompatible(const Image& img) {
  VdsoFacts vdso = CurrentVdso();
  if (vdso.hash != img.info.vdso_hash || vdso.size != img.info.vdso_size)
    throw Failure{EINVAL, "the running kernel's vDSO differs from the one the image was taken with (kernel " +
                              std::string(img.info.kernel_release) + "); restart on the same kernel"};
  uint64_t missing = img.header.xcr0 & ~CurrentXcr0();
  if (missing)
    throw Failure{EINVAL, "this CPU lacks register state the image uses (XCR0 bits 0x" +
                              [&] { char b[32]; snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(missing)); return std::string(b); }() + ")"};
  if (geteuid() != 0 && img.info.uid != geteuid())
    throw Failure{EPERM, "the image belongs to uid " + std::to_string(img.info.uid) + ": Operation not permitted"};
}

// A timer aimed at one thread needs that thread's tid back.
void CheckTimersKeepTheirThreads(const Image& img, bool restore_pid) {
  if (restore_pid) return;
  for (const ProcessImage& p : img.processes)
    for (const PosixTimerRecord& t : p.posix_timers)
      if (t.notify & SIGEV_THREAD_ID)
        throw Failure{EINVAL, "POSIX timer " + std::to_string(t.id) + " of pid " + std::to_string(p.process.pid) +
                                  " signals thread " + std::to_string(t.target_tid) +
                                  ", whose tid changes with --no-restore-pid; restart without it"};
}

uint64_t MtimeNs(const struct stat& st) {
  return static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + static_cast<uint64_t>(st.st_mtim.tv_nsec);
}

// Opens every mapped file of the image once and checks it is the file the
// image saw. Returns path -> fd (kept by `files`).
std::map<std::string, int> OpenMappedFiles(const Image& img, RestoredFiles& files) {
  std::map<std::string, int> fds;
  for (const ProcessImage& p : img.processes)
    for (const VmaEntry& v : p.vmas) {
      if (!IsFileVma(v)) continue;
      bool writable_shared = (v.record.flags & kVmaShared) && (v.record.flags & kVmaWrite);
      auto it = fds.find(v.path);
      if (it != fds.end() && !writable_shared) continue;
      int fd = open(v.path.c_str(), (writable_shared ? O_RDWR : O_RDONLY) | O_CLOEXEC);
      if (fd < 0) throw Failure{errno, "'" + v.path + "': " + strerror(errno)};
      struct stat st {};
      fstat(fd, &st);
      if (!IsWrittenBackVma(v) &&  // rewritten from the image just now
          (static_cast<uint64_t>(st.st_size) != v.record.file_size || MtimeNs(st) != v.record.mtime_ns)) {
        close(fd);
        throw Failure{EINVAL, "'" + v.path + "' changed since the checkpoint; the image needs the same file"};
      }
      if (it != fds.end()) close(it->second);  // upgrade to read-write
      fds[v.path] = files.Keep(fd);
    }
  return fds;
}

void CheckOpenFiles(const ProcessImage& p) {
  for (const FileEntry& f : p.files) {
    auto kind = static_cast<FileKind>(f.record.kind);
    if (!IsRegularFileKind(f.record.kind) && kind != FileKind::kDirectory) continue;
    struct stat st {};
    if (stat(f.path.c_str(), &st) != 0) throw Failure{errno, "'" + f.path + "': " + strerror(errno)};
  }
}

// Where the restorer's fds go in each process: above every fd any restored
// process has. Everything cr_restart holds for the children sits above those.
struct FdNumbers {
  int image, status, go, first_plan, first_exe, first_mapping, floor;
};

FdNumbers ChooseFdNumbers(const Image& img, size_t mapped_paths, size_t shared_objects) {
  int top = 2;
  for (const ProcessImage& p : img.processes)
    for (const FileEntry& f : p.files) top = std::max(top, f.record.fd);
  int n = static_cast<int>(img.processes.size());
  int base = top + 8;
  int first_mapping = base + 3 + 2 * n;
  return {base, base + 1, base + 2, base + 3, base + 3 + n, first_mapping,
          first_mapping + static_cast<int>(mapped_paths + shared_objects) + 8};
}

template <typename T>
void Append(std::string& blob, const T* items, size_t n, uint64_t* offset_field) {
  while (blob.size() % 16) blob.push_back('\0');
  *offset_field = blob.size();
  blob.append(reinterpret_cast<const char*>(items), n * sizeof(T));
}

std::string BuildPlan(const ProcessImage& p, const FdNumbers& n, int exe_fd_number,
                      const std::map<std::string, int>& mapping_numbers, const SharedMemoryObjects& shared,
                      bool restore_tids) {
  plan_header h{};
  h.restore_tids = restore_tids ? 1 : 0;
  h.magic = REPRISE_PLAN_MAGIC;
  h.image_fd = n.image;
  h.status_fd = n.status;
  h.go_fd = n.go;
  h.exe_fd = exe_fd_number;
  h.pages_hash = p.pages_hash;
  const ProcessRecord& r = p.process;
  h.vvar_start = r.vvar_start; h.vvar_size = r.vvar_size;
  h.vclock_start = r.vclock_start; h.vclock_size = r.vclock_size;
  h.vdso_start = r.vdso_start; h.vdso_size = r.vdso_size;
  h.start_code = r.start_code; h.end_code = r.end_code;
  h.start_data = r.start_data; h.end_data = r.end_data;
  h.start_brk = r.start_brk; h.brk = r.brk; h.start_stack = r.start_stack;
  h.arg_start = r.arg_start; h.arg_end = r.arg_end;
  h.env_start = r.env_start; h.env_end = r.env_end;
  memcpy(h.auxv, r.auxv, sizeof h.auxv);
  h.auxv_words = r.auxv_words;

  std::vector<plan_vma> vmas;
  for (const VmaEntry& v : p.vmas) {
    plan_vma pv{};
    pv.start = v.record.start;
    pv.end = v.record.end;
    pv.file_offset = v.record.file_offset;
    pv.flags = v.record.flags;
    pv.fd = IsFileVma(v) ? mapping_numbers.at(v.path) : -1;
    if (IsShmFileVma(v)) pv.flags |= PLAN_VMA_OBJECT;  // its pages are in the file again
    if (IsSharedObjectVma(v.record)) {
      pv.fd = shared.NumberOf(v.record);
      pv.flags |= PLAN_VMA_OBJECT;
    }
    pv.first_run = v.record.first_run;
    pv.run_count = v.record.run_count;
    vmas.push_back(pv);
  }
  std::vector<plan_run> runs;
  for (const PageRun& run : p.runs) runs.push_back({run.start, run.pages, run.data_offset});
  std::vector<plan_thread> threads;
  for (const ThreadRecord& t : p.threads) {
    plan_thread pt{};
    pt.tid = t.tid;
    pt.is_main = t.tid == r.pid;
    memcpy(&pt.park, &t.park, sizeof pt.park);
    pt.fs_base = t.fs_base;
    pt.clear_child_tid = t.clear_child_tid;
    pt.robust_list_head = t.robust_list_head;
    pt.robust_list_len = t.robust_list_len;
    threads.push_back(pt);
  }
  std::vector<plan_fd_flag> fd_flags;
  for (const FileEntry& f : p.files)
    if (f.record.fd_flags & FD_CLOEXEC) fd_flags.push_back({f.record.fd, 1});
  std::vector<plan_lock> locks;
  for (const FileLockRecord& l : p.file_locks) locks.push_back({l.fd, l.kind, l.write, 0, l.start, l.len});
  h.lock_count = static_cast<uint32_t>(locks.size());
  h.vma_count = static_cast<uint32_t>(vmas.size());
  h.run_count = static_cast<uint32_t>(runs.size());
  h.thread_count = static_cast<uint32_t>(threads.size());
  h.fd_flag_count = static_cast<uint32_t>(fd_flags.size());

  std::string blob(sizeof h, '\0');
  Append(blob, vmas.data(), vmas.size(), &h.vma_off);
  Append(blob, runs.data(), runs.size(), &h.run_off);
  Append(blob, threads.data(), threads.size(), &h.thread_off);
  Append(blob, fd_flags.data(), fd_flags.size(), &h.fd_flag_off);
  Append(blob, locks.data(), locks.size(), &h.lock_off);
  h.size = blob.size();
  memcpy(blob.data(), &h, sizeof h);
  return blob;
}

int PlanFd(const std::string& blob) {
  int fd = static_cast<int>(syscall(SYS_memfd_create, "reprise-plan", MFD_CLOEXEC));
  if (fd < 0) throw Failure{errno, std::string("memfd_create: ") + strerror(errno)};
  if (write(fd, blob.data(), blob.size()) != static_cast<ssize_t>(blob.size()))
    throw Failure{errno, std::string("cannot write the restore plan: ") + strerror(errno)};
  return fd;
}

struct CloneArgs {  // struct clone_args of <linux/sched.h>, version 2
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

pid_t CloneWithPid(pid_t want) {
  pid_t tids[1] = {want};
  CloneArgs a{};
  a.exit_signal = SIGCHLD;
  a.set_tid = reinterpret_cast<uint64_t>(tids);
  a.set_tid_size = 1;
  return static_cast<pid_t>(syscall(SYS_clone3, &a, sizeof a));
}

std::string PidInUse(pid_t pid) {
  return "pid " + std::to_string(pid) + " is in use: Device or resource busy";
}


// The processes of an image and how to create them: each is cloned by its
// restored parent (so parent links, sessions and groups come back), or by
// cr_restart's side for the roots of the image.
class TreeBuilder {
 public:
  TreeBuilder(const Image& img, std::vector<ChildSetup>& setups, bool restore_pid, int status_fd, int go_fd)
      : img_(img), setups_(setups), restore_pid_(restore_pid), status_fd_(status_fd), go_fd_(go_fd) {
    std::set<pid_t> pids;
    for (const ProcessImage& p : img.processes) pids.insert(p.process.pid);
    children_.resize(img.processes.size());
    for (size_t i = 0; i < img.processes.size(); ++i) {
      pid_t ppid = img.processes[i].process.ppid;
      auto parent = std::find_if(img.processes.begin(), img.processes.end(),
                                 [&](const ProcessImage& q) { return q.process.pid == ppid; });
      if (parent == img.processes.end() || ppid == img.processes[i].process.pid) roots_.push_back(i);
      else children_[parent - img.processes.begin()].push_back(i);
    }
    for (auto& list : children_)  // lower pids first: group leaders before members
      std::sort(list.begin(), list.end(), [&](size_t a, size_t b) { return Pid(a) < Pid(b); });
    image_pids_ = pids;
  }

  const std::vector<size_t>& roots() const { return roots_; }

  // Creates process i and, from inside it, its descendants. Returns its pid
  // (in the caller's namespace), or -1 after reporting on the status pipe.
  pid_t Create(size_t i) {
    pid_t pid = Clone(Pid(i));
    if (pid != 0) return pid;
    const ProcessRecord& r = img_.processes[i].process;
    if (restore_pid_) JoinSessionAndGroup(r.pid, r.pgid, r.sid);
    for (size_t c : children_[i])
      if (Create(c) < 0) _exit(1);
    for (const ZombieRecord& z : img_.zombies)
      if (z.ppid == r.pid && CreateZombie(z) < 0) _exit(1);
    RunRestartChild(setups_[i]);
  }

 private:
  pid_t Pid(size_t i) const { return img_.processes[i].process.pid; }

  // Returns 0 in the child, the pid in the parent, -1 after reporting.
  pid_t Clone(pid_t want) {
    pid_t pid = restore_pid_ ? CloneWithPid(want) : fork();
    if (pid < 0) {
      int e = errno;
      Report(e == EEXIST ? EBUSY : e,
             e == EEXIST ? PidInUse(want) : std::string("cannot create a process: ") + strerror(e));
    }
    return pid;
  }

  // A child that had exited but was not reaped: it holds nothing but the go
  // pipe, and exits with its saved status once the tree resumes, so its
  // parent gets SIGCHLD (held pending while the restorer blocks signals) and
  // reaps it as it would have.
  pid_t CreateZombie(const ZombieRecord& z) {
    pid_t pid = Clone(z.pid);
    if (pid != 0) return pid;
    if (restore_pid_) JoinSessionAndGroup(z.pid, z.pgid, z.sid);
    // It belongs to the image's owner, like the rest of the tree (its parent reaps it).
    if (geteuid() == 0 && (setgroups(0, nullptr) != 0 || setgid(img_.info.gid) != 0 || setuid(img_.info.uid) != 0)) {
      Report(errno, "cannot give a restored zombie its owner's identity: " + std::string(strerror(errno)));
      _exit(1);
    }
    if (dup2(go_fd_, 0) != 0) _exit(1);
    close_range(1, ~0U, 0);
    char go = 0;
    while (read(0, &go, 1) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(z.wait_status)) {
      int sig = WTERMSIG(z.wait_status);
      prctl(PR_SET_DUMPABLE, 0);  // no core file, and no core bit the original lacked
      signal(sig, SIG_DFL);
      sigset_t one;
      sigemptyset(&one);
      sigaddset(&one, sig);
      sigprocmask(SIG_UNBLOCK, &one, nullptr);
      kill(getpid(), sig);
    }
    _exit(WEXITSTATUS(z.wait_status));
  }

  void Report(int code, const std::string& message) {
    plan_status st{};
    st.code = code;
    strncpy(st.message, message.c_str(), sizeof st.message - 1);
    ssize_t ignored = write(status_fd_, &st, sizeof st);
    (void)ignored;
  }

  void JoinSessionAndGroup(pid_t pid, pid_t pgid, pid_t sid) {
    if (sid == pid) setsid();
    if (pgid == pid) setpgid(0, 0);
    else if (pgid > 0 && image_pids_.count(pgid)) setpgid(0, pgid);
  }

  const Image& img_;
  std::vector<ChildSetup>& setups_;
  bool restore_pid_;
  int status_fd_;
  int go_fd_;
  std::vector<std::vector<size_t>> children_;
  std::vector<size_t> roots_;
  std::set<pid_t> image_pids_;
};

// Reads one status per process; true when all are ready.
void AwaitReady(int status_fd, size_t count) {
  for (size_t ready = 0; ready < count;) {
    pollfd p{status_fd, POLLIN, 0};
    int r = poll(&p, 1, 300000);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) throw Failure{ETIMEDOUT, "timed out waiting for the restored processes to be ready"};
    plan_status st{};
    ssize_t n = read(status_fd, &st, sizeof st);
    if (n < 0 && errno == EINTR) continue;
    if (n != sizeof st) throw Failure{EIO, "a restored process died before it was ready"};
    if (st.code != 0) throw Failure{st.code, std::string(st.message, strnlen(st.message, sizeof st.message))};
    ++ready;
  }
}

void RaiseFdLimit() {
  struct rlimit lim {};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

RestartFailure Restart(const RestartRequest& req) {
  int status_pipe[2] = {-1, -1}, go_pipe[2] = {-1, -1};
  std::vector<pid_t> roots;
  bool in_namespace = false;
  PidNamespaceRun ns;
  pid_t first_root = -1;
  try {
    Image img;
    try {
      img = ReadImage(req.path, /*verify_pages=*/false);
    } catch (const ImageError& e) {
      throw Failure{e.code(), e.what()};
    }
    CheckCompatible(img);
    CheckTimersKeepTheirThreads(img, req.restore_pid);
    int image_opened = open(req.path.c_str(), O_RDONLY | O_CLOEXEC);  // the caller's choice: opened as the caller
    if (image_opened < 0) throw Failure{errno, "'" + req.path + "': " + strerror(errno)};
    // Every path the image names is opened, created or rewritten as its owner would.
    std::optional<OwnerFileAccess> as_owner(std::in_place, img.info.uid, img.info.gid);
    for (const ProcessImage& p : img.processes) CheckOpenFiles(p);
    std::string tried;
    const std::string restorer = EngineFile("cr_restorer", tried);
    if (restorer.empty())
      throw Failure{ENOENT, "cannot find cr_restorer (looked at " + tried + "); reinstall Reprise"};
    RaiseFdLimit();

    RestoredFiles files;
    size_t distinct_paths = 0;
    {
      std::set<std::string> paths;
      for (const ProcessImage& p : img.processes)
        for (const VmaEntry& v : p.vmas)
          if (IsFileVma(v)) paths.insert(v.path);
      distinct_paths = paths.size();
    }
    std::set<std::pair<uint64_t, uint64_t>> objects;
    for (const ProcessImage& p : img.processes)
      for (const VmaEntry& v : p.vmas)
        if (IsSharedObjectVma(v.record)) objects.insert({v.record.dev, v.record.ino});
    for (const ProcessImage& p : img.processes)
      for (const FileEntry& f : p.files)
        if (IsObjectFile(f)) objects.insert({f.record.dev, f.record.ino});
    FdNumbers numbers = ChooseFdNumbers(img, distinct_paths, objects.size());
    files.SetFloor(numbers.floor);
    int image_fd = files.Keep(image_opened);
    SharedMemoryObjects shared;
    shared.Create(img, image_fd, files);
    files.set_external_sockets_closed(req.external_sockets_closed);
    files.Open(img, numbers.floor, shared);
    std::map<std::string, int> mapped = OpenMappedFiles(img, files);
    std::map<std::string, int> mapping_numbers;
    int next = numbers.first_mapping;
    for (auto& [path, fd] : mapped) mapping_numbers[path] = next++;
    shared.Number(next);
    if (pipe2(status_pipe, O_CLOEXEC) != 0 || pipe2(go_pipe, O_CLOEXEC) != 0)
      throw Failure{errno, std::string("pipe: ") + strerror(errno)};
    int status_w = files.Keep(dup(status_pipe[1]));
    int go_r = files.Keep(dup(go_pipe[0]));
    close(status_pipe[1]);
    close(go_pipe[0]);
    status_pipe[1] = go_pipe[0] = -1;

    std::vector<ChildSetup> setups(img.processes.size());
    for (size_t i = 0; i < img.processes.size(); ++i) {
      const ProcessImage& proc = img.processes[i];
      ChildSetup& s = setups[i];
      s.process = &proc;
      s.uid = img.info.uid;
      s.gid = img.info.gid;
      s.restorer = restorer;
      s.placements = files.PlacementsFor(i);
      int exe = open(proc.process.exe, O_RDONLY | O_CLOEXEC);
      int exe_number = exe >= 0 ? numbers.first_exe + static_cast<int>(i) : -1;
      if (exe >= 0) s.placements.push_back({files.Keep(exe), exe_number});
      std::set<std::string> own_paths;
      for (const VmaEntry& v : proc.vmas)
        if (IsFileVma(v) && own_paths.insert(v.path).second)
          s.placements.push_back({mapped.at(v.path), mapping_numbers.at(v.path)});
      for (auto placement : shared.PlacementsFor(proc)) s.placements.push_back(placement);
      int plan = files.Keep(PlanFd(BuildPlan(proc, numbers, exe_number, mapping_numbers, shared, req.restore_pid)));
      s.plan_fd_number = numbers.first_plan + static_cast<int>(i);
      s.placements.push_back({plan, s.plan_fd_number});
      s.placements.push_back({image_fd, numbers.image});
      s.placements.push_back({status_w, numbers.status});
      s.placements.push_back({go_r, numbers.go});
      s.status_fd_inherited = status_w;
      s.status_fd_number = numbers.status;
      s.pids_restored = req.restore_pid;
    }

    as_owner.reset();  // namespaces and pids need root's own file access again

    TreeBuilder tree(img, setups, req.restore_pid, status_w, go_r);
    // Runs where the roots' parent will be: init of a new pid namespace, or here.
    auto create_roots = [&]() -> pid_t {
      pid_t first = -1;
      for (size_t r : tree.roots()) {
        pid_t pid = tree.Create(r);
        if (pid > 0) roots.push_back(pid);
        if (first < 0) first = pid;
      }
      files.CloseAll();  // the children hold what they need; pipes must see EOF
      return first;
    };
    // The roots and everything under them see the clocks go on from the
    // checkpoint, in a time namespace entered before the first of them exists.
    bool clock_failed = false;
    ClockOffsets clock_offsets;  // zero: the host's clocks
    auto enter_clocks = [&](std::string* error) {
      if (!img.clocks || !req.clocks_continue || EnterTimeNamespace(*img.clocks, &clock_offsets, error)) return true;
      *error += "; restart with --clock=host to let the clocks show the time spent stopped";
      clock_failed = true;
      return false;
    };
    if (req.restore_pid && img.info.in_pid_namespace) {
      std::string error;
      if (!ns.Start(create_roots, &error, enter_clocks))
        throw Failure{EPERM, clock_failed ? error : error + " (try --no-restore-pid)"};
      in_namespace = true;
    } else {
      std::string error;
      if (geteuid() == 0 && !enter_clocks(&error)) throw Failure{EPERM, error};
      if (geteuid() != 0 && img.clocks && req.clocks_continue)
        fprintf(stderr, "cr_restart: note: CLOCK_MONOTONIC goes on from the host's, not from the checkpoint (a time"
                        " namespace needs root or the image's pid namespace); --clock=host silences this\n");
      first_root = create_roots();
    }
    files.CloseAll();
    AwaitReady(status_pipe[0], img.processes.size());
    files.ArmTimers(clock_offsets);  // timers run from here on: the processes resume at once
    // Every process is in place and every checksum matched: let them run.
    std::string go(img.processes.size() + img.zombies.size(), 'g');  // one each, zombies included
    if (write(go_pipe[1], go.data(), go.size()) != static_cast<ssize_t>(go.size()))
      throw Failure{EIO, "the restored processes vanished"};
    close(go_pipe[1]);
    close(status_pipe[0]);
  } catch (const Failure& f) {
    if (in_namespace) kill(ns.init_pid(), SIGKILL);
    for (pid_t pid : roots) kill(pid, SIGKILL);
    for (int fd : {status_pipe[0], status_pipe[1], go_pipe[0], go_pipe[1]})
      if (fd >= 0) close(fd);
    if (in_namespace) WaitFor(ns.init_pid());
    for (pid_t pid : roots) WaitFor(pid);
    return {f.code ? f.code : EIO, "Restart failed: " + f.message};
  }
  if (in_namespace) ExitLike(ns.Wait());
  ForwardSignals(first_root);
  ExitLike(WaitFor(first_root));
}

}  // namespace reprise::cr
