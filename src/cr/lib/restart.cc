#include "lib/restart.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <vector>

#include "lib/image_reader.h"
#include "lib/pid_namespace.h"
#include "lib/restart_child.h"
#include "lib/system_facts.h"
#include "restorer/restore_plan.h"

namespace reprise::cr {
namespace {

struct Failure {
  int code;
  std::string message;
};

// Owns fds opened for the child; closes them in the parent at the end.
class FdList {
 public:
  ~FdList() {
    for (int fd : fds_) close(fd);
  }
  int Add(int fd) {
    fds_.push_back(fd);
    return fd;
  }

 private:
  std::vector<int> fds_;
};

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
  if (img.processes.size() != 1)
    throw Failure{ENOTSUP, "images of several processes cannot be restarted by this version yet"};
}

uint64_t MtimeNs(const struct stat& st) {
  return static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + static_cast<uint64_t>(st.st_mtim.tv_nsec);
}

// Opens every mapped file once and checks it is the file the image saw.
std::map<std::string, int> OpenMappedFiles(const ProcessImage& p, FdList& owned) {
  std::map<std::string, int> fds;
  for (const VmaEntry& v : p.vmas) {
    if (v.path.empty() || fds.count(v.path)) continue;
    bool writable_shared = (v.record.flags & kVmaShared) && (v.record.flags & kVmaWrite);
    int fd = open(v.path.c_str(), (writable_shared ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) throw Failure{errno, "'" + v.path + "': " + strerror(errno)};
    owned.Add(fd);
    struct stat st {};
    fstat(fd, &st);
    if (static_cast<uint64_t>(st.st_size) != v.record.file_size || MtimeNs(st) != v.record.mtime_ns)
      throw Failure{EINVAL, "'" + v.path + "' changed since the checkpoint; the image needs the same file"};
    fds[v.path] = fd;
  }
  return fds;
}

void CheckOpenFiles(const ProcessImage& p) {
  for (const FileEntry& f : p.files) {
    auto kind = static_cast<FileKind>(f.record.kind);
    if (kind != FileKind::kRegular && kind != FileKind::kDirectory) continue;
    struct stat st {};
    if (stat(f.path.c_str(), &st) != 0) throw Failure{errno, "'" + f.path + "': " + strerror(errno)};
  }
}

// Numbers for the restorer's fds: above every fd the program will have.
struct FdNumbers {
  int image, status, go, plan, exe, first_mapping;
};

FdNumbers ChooseFdNumbers(const ProcessImage& p) {
  int top = 2;
  for (const FileEntry& f : p.files) top = std::max(top, f.record.fd);
  int base = top + 8;
  return {base, base + 1, base + 2, base + 3, base + 4, base + 5};
}

template <typename T>
void Append(std::string& blob, const T* items, size_t n, uint64_t* offset_field) {
  while (blob.size() % 16) blob.push_back('\0');
  *offset_field = blob.size();
  blob.append(reinterpret_cast<const char*>(items), n * sizeof(T));
}

std::string BuildPlan(const ProcessImage& p, const FdNumbers& n, const std::map<std::string, int>& mapping_numbers,
                      bool have_exe, bool restore_tids) {
  plan_header h{};
  h.restore_tids = restore_tids ? 1 : 0;
  h.magic = REPRISE_PLAN_MAGIC;
  h.image_fd = n.image;
  h.status_fd = n.status;
  h.go_fd = n.go;
  h.exe_fd = have_exe ? n.exe : -1;
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
    pv.fd = v.path.empty() ? -1 : mapping_numbers.at(v.path);
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
  h.vma_count = static_cast<uint32_t>(vmas.size());
  h.run_count = static_cast<uint32_t>(runs.size());
  h.thread_count = static_cast<uint32_t>(threads.size());
  h.fd_flag_count = static_cast<uint32_t>(fd_flags.size());

  std::string blob(sizeof h, '\0');
  Append(blob, vmas.data(), vmas.size(), &h.vma_off);
  Append(blob, runs.data(), runs.size(), &h.run_off);
  Append(blob, threads.data(), threads.size(), &h.thread_off);
  Append(blob, fd_flags.data(), fd_flags.size(), &h.fd_flag_off);
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

}  // namespace

RestartFailure Restart(const RestartRequest& req) {
  int status_pipe[2] = {-1, -1}, go_pipe[2] = {-1, -1};
  pid_t child = -1;
  bool in_namespace = false;
  PidNamespaceRun ns;
  try {
    Image img;
    try {
      img = ReadImage(req.path, /*verify_pages=*/false);
    } catch (const ImageError& e) {
      throw Failure{e.code(), e.what()};
    }
    CheckCompatible(img);
    const ProcessImage& proc = img.processes[0];
    CheckOpenFiles(proc);
    FdList owned;
    std::map<std::string, int> mapped = OpenMappedFiles(proc, owned);
    FdNumbers numbers = ChooseFdNumbers(proc);
    std::map<std::string, int> mapping_numbers;
    ChildSetup setup;
    int next = numbers.first_mapping;
    for (auto& [path, fd] : mapped) {
      mapping_numbers[path] = next;
      setup.helper_fds.push_back({fd, next++});
    }
    int exe_fd = open(proc.process.exe, O_RDONLY | O_CLOEXEC);
    if (exe_fd >= 0) setup.helper_fds.push_back({owned.Add(exe_fd), numbers.exe});
    std::string plan = BuildPlan(proc, numbers, mapping_numbers, exe_fd >= 0, req.restore_pid);
    int image_fd = owned.Add(open(req.path.c_str(), O_RDONLY | O_CLOEXEC));
    int plan_fd = owned.Add(PlanFd(plan));
    if (image_fd < 0) throw Failure{errno, "cannot open '" + req.path + "': " + strerror(errno)};
    if (pipe2(status_pipe, O_CLOEXEC) != 0 || pipe2(go_pipe, O_CLOEXEC) != 0)
      throw Failure{errno, std::string("pipe: ") + strerror(errno)};
    setup.helper_fds.push_back({image_fd, numbers.image});
    setup.helper_fds.push_back({plan_fd, numbers.plan});
    setup.helper_fds.push_back({status_pipe[1], numbers.status});
    setup.helper_fds.push_back({go_pipe[0], numbers.go});
    setup.process = &proc;
    setup.uid = img.info.uid;
    setup.gid = img.info.gid;
    setup.restorer = ExecutableDir() + "/cr_restorer";
    setup.plan_fd_number = numbers.plan;
    setup.status_fd_number = numbers.status;
    setup.status_fd_now = status_pipe[1];

    pid_t want = proc.process.pid;
    auto start_child = [&]() -> pid_t {
      pid_t pid = req.restore_pid ? CloneWithPid(want) : fork();
      if (pid == 0) RunRestartChild(setup);
      if (pid < 0) {
        int e = errno;
        plan_status st{};
        st.code = e == EEXIST ? EBUSY : e;
        std::string why = e == EEXIST ? PidInUse(want) : std::string("cannot create the process: ") + strerror(e);
        strncpy(st.message, why.c_str(), sizeof st.message - 1);
        ssize_t ignored = write(status_pipe[1], &st, sizeof st);
        (void)ignored;
      }
      close(status_pipe[1]);  // so the parent sees EOF if the child dies
      close(go_pipe[0]);
      return pid;
    };
    if (req.restore_pid && img.info.in_pid_namespace) {
      std::string error;
      if (!ns.Start(start_child, &error)) throw Failure{EPERM, error + " (try --no-restore-pid)"};
      in_namespace = true;
      close(status_pipe[1]);
      close(go_pipe[0]);
    } else {
      child = start_child();
      if (child < 0) {
        plan_status st{};
        ssize_t n = read(status_pipe[0], &st, sizeof st);
        throw Failure{n == sizeof st ? st.code : EIO, n == sizeof st ? st.message : "cannot create the process"};
      }
    }
    plan_status st{};
    ssize_t n;
    do n = read(status_pipe[0], &st, sizeof st);
    while (n < 0 && errno == EINTR);
    if (n != sizeof st) throw Failure{EIO, "the restorer died before the process was restored"};
    if (st.code != 0) throw Failure{st.code, std::string(st.message, strnlen(st.message, sizeof st.message))};
    // Every process is in place and every checksum matched: let it run.
    char go = 'g';
    if (write(go_pipe[1], &go, 1) != 1) throw Failure{EIO, "the restored process vanished"};
    close(go_pipe[1]);
    close(status_pipe[0]);
  } catch (const Failure& f) {
    if (in_namespace) kill(ns.init_pid(), SIGKILL);
    if (child > 0) kill(child, SIGKILL);
    for (int fd : {status_pipe[0], go_pipe[1]})
      if (fd >= 0) close(fd);
    if (in_namespace) WaitFor(ns.init_pid());
    if (child > 0) WaitFor(child);
    return {f.code ? f.code : EIO, "Restart failed: " + f.message};
  }
  if (in_namespace) ExitLike(ns.Wait());
  ForwardSignals(child);
  ExitLike(WaitFor(child));
}

}  // namespace reprise::cr
