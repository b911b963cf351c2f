// On-disk layout of a Reprise checkpoint image (format version 2; version 1,
// which had no ZOMBIES section, is still read).
//
// An image is one file holding a whole process tree:
//
//   FileHeader                      64 bytes at offset 0
//   Section*                        each: SectionHeader + payload
//   Section END                     marks a complete image
//
// Every section header carries its own hash and the hash of its payload, so a
// flipped byte anywhere is detected. Page data (PAGES sections) starts on a
// 4 KiB boundary so restore can read it straight into place; the gap before
// it must be zero bytes, and readers check that too.
//
// Metadata is fixed-layout little-endian structs rather than protobuf: the
// agent writes them from inside a signal handler, where it may not allocate
// or pull a serialisation runtime into every checkpointed program.
#pragma once

#include <cstdint>

namespace reprise::cr {

inline constexpr char kImageMagic[8] = {'R', 'P', 'R', 'S', 'I', 'M', 'G', '\0'};
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr uint32_t kOldestFormatVersion = 1;  // the oldest this program still reads
inline constexpr uint32_t kSectionMagic = 0x54434553;  // "SECT"
inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint32_t kArchX86_64 = 62;  // EM_X86_64

struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_size;  // sizeof(FileHeader)
  uint32_t arch;
  uint32_t flags;
  uint64_t xcr0;         // XSAVE features enabled where the image was taken
  uint32_t xsave_size;   // bytes of the XSAVE area in a signal frame
  uint32_t reserved;
  uint64_t created_ns;   // CLOCK_REALTIME when the checkpoint started
  uint64_t reserved2;
  uint64_t header_hash;  // hash of the 56 bytes above
};
static_assert(sizeof(FileHeader) == 64);

enum class SectionType : uint32_t {
  kImageInfo = 1,   // ImageInfo + command line (written by cr_checkpoint)
  kProcess = 2,     // ProcessRecord
  kThreads = 3,     // ThreadRecord[]
  kSigactions = 4,  // SigactionRecord[64]
  kFiles = 5,       // FileRecord + path, repeated
  kVmas = 6,        // VmaRecord + path, repeated
  kRuns = 7,        // PageRun[]
  kPages = 8,       // raw page data, 4 KiB aligned
  kEnd = 9,         // EndRecord
  // evfd range 20-23 (see the event objects block below)
  kEvents = 20,       // per process, only if it holds event fds: EventRecord + items, repeated
  kFileLocks = 30,    // per process, only if it holds file locks: FileLockRecord[] (since version 2)
  kEventShares = 21,  // image-wide, written by cr_checkpoint: EventShare[]
  kZombies = 40,      // image-wide, written by cr_checkpoint: ZombieRecord[] (since version 2)
  kClocks = 41,       // image-wide, written by cr_checkpoint: ClockRecord (since version 2)
  kSignals = 42,      // per process, only with pending signals: PendingSignalRecord[] (since version 2)
  kPosixTimers = 43,  // per process, only with timer_create timers: PosixTimerRecord[] (since version 2)
};

struct SectionHeader {
  uint32_t magic;  // kSectionMagic
  uint32_t type;   // SectionType
  uint32_t owner;  // index of the process in the image, or kImageWide
  uint32_t flags;
  uint64_t payload_offset;  // absolute file offset of the payload
  uint64_t payload_size;
  uint64_t payload_hash;
  uint64_t header_hash;  // hash of the 40 bytes above
};
static_assert(sizeof(SectionHeader) == 48);
inline constexpr uint32_t kImageWide = 0xffffffffu;
// The agent writes PROCESS, THREADS, SIGACTIONS, FILES, VMAS, RUNS, PAGES.
inline constexpr uint32_t kSectionsPerProcess = 7;

enum ScopeKind : uint32_t { kScopeTree = 0, kScopePid = 1, kScopePgid = 2, kScopeSid = 3 };

struct ImageInfo {
  uint64_t created_ns;
  uint32_t uid, gid;  // owner of the checkpointed processes
  uint32_t process_count;
  uint32_t scope;     // ScopeKind
  int32_t root_pid;   // as the processes see it (inside their pid namespace)
  int32_t root_host_pid;  // as cr_checkpoint saw it
  uint32_t in_pid_namespace;  // 1 if taken inside a cr_run pid namespace
  uint32_t cmdline_len;       // bytes of the command line following this struct
  char hostname[64];
  char kernel_release[65];
  char pad[7];
  uint64_t vdso_hash;  // hash of the [vdso] bytes of the kernel that ran the tree
  uint64_t vdso_size;
};

// Callee-saved registers of a thread parked inside the checkpoint signal
// handler; restore jumps back here, and returning from the handler then
// restores every other register from the kernel's signal frame.
struct ParkContext {
  uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};
static_assert(sizeof(ParkContext) == 64);

struct ThreadRecord {
  int32_t tid;          // as the process sees it
  uint32_t flags;       // kThreadRseqRegistered
  ParkContext park;
  uint64_t fs_base;
  uint64_t clear_child_tid;
  uint64_t robust_list_head;
  uint64_t robust_list_len;
  uint64_t sigmask;     // blocked set when the checkpoint signal arrived
  char name[16];
};
inline constexpr uint32_t kThreadRseqRegistered = 1;

struct ProcessRecord {
  int32_t pid, ppid, pgid, sid;  // inside the pid namespace
  int32_t host_pid;
  uint32_t uid, gid, euid, egid;
  uint32_t umask;
  uint32_t thread_count;
  uint32_t personality;
  uint32_t flags;  // kProcess* below
  uint32_t auxv_words;  // used entries of auxv[]
  // Memory layout handed to prctl(PR_SET_MM_MAP) at restore.
  uint64_t start_code, end_code, start_data, end_data;
  uint64_t start_brk, brk, start_stack;
  uint64_t arg_start, arg_end, env_start, env_end;
  uint64_t auxv[64];
  // [vvar] [vvar_vclock] [vdso] where the process had them.
  uint64_t vvar_start, vvar_size, vclock_start, vclock_size, vdso_start, vdso_size;
  uint64_t rlimits[16][2];  // RLIMIT_* soft, hard
  uint64_t itimers[3][4];   // ITIMER_REAL/VIRTUAL/PROF: interval sec,usec, value sec,usec
  int32_t rseq_offset;      // glibc's __rseq_offset (0 if not registered)
  uint32_t tid_offset;      // offset of glibc's cached tid in struct pthread
  char comm[16];
  char cwd[4096];
  char exe[4096];
};

struct SigactionRecord {
  uint64_t handler;
  uint64_t flags;
  uint64_t restorer;
  uint64_t mask;
};

enum class FileKind : uint32_t {
  kRegular = 1,
  kDirectory = 2,
  kDevice = 3,     // /dev/null, /dev/zero, /dev/urandom, /dev/random, /dev/full
  kTerminal = 4,   // reattached to cr_restart's terminal
  kPipe = 5,       // recreated if another fd of the image holds the same
                   // pipe (ino), else cr_restart's stdin/stdout stand in
  kDeletedFile = 30,  // a memfd, or a file deleted while open (tmpfile(),
                      // Fortran SCRATCH): its bytes follow the path (data_len),
                      // `reserved` holds its F_GET_SEALS; restored as one memfd
                      // per dev/ino, shared with mappings of the same object
  // Event objects (evfd range 20-29); details in the process's EVENTS section.
  kEventfd = 20,
  kTimerfd = 21,
  kSignalfd = 22,
  kEpoll = 23,
  kInotify = 24,
  kPidfd = 25,
  // 10-19: sockets (see SocketRecord; the FileRecord's data holds it)
  kUnixSocket = 10,  // AF_UNIX stream, datagram or seqpacket
  kInetSocket = 11,  // AF_INET/AF_INET6 TCP or UDP
  kRewrittenFile = 50,  // a regular file open for writing in place (O_RDWR, or
                        // O_WRONLY not at its end) without O_APPEND: its bytes
                        // follow the path (data_len) and are written back into
                        // the same inode at restart
  kRewrittenKept = 51,  // the same, not saved (policy keep-current): reopened as
                        // the restart finds it, neither written back nor cut
};
// The most bytes the image keeps of one deleted file or memfd.
inline constexpr uint64_t kMaxDeletedFileBytes = 64ull << 20;
// The bytes the image keeps of one file rewritten in place: by default, and
// at most (cr_checkpoint --rewritten-limit; a process's files together stay
// within the 256 MiB of one metadata section).
inline constexpr uint64_t kDefaultRewrittenFileBytes = 64ull << 20;
inline constexpr uint64_t kMaxRewrittenFileBytes = 200ull << 20;

struct FileRecord {
  int32_t fd;
  uint32_t kind;      // FileKind
  uint32_t flags;     // F_GETFL
  uint32_t fd_flags;  // F_GETFD (FD_CLOEXEC)
  uint64_t offset;
  uint64_t size;      // size at checkpoint time (regular files)
  uint64_t dev, ino;
  uint64_t mtime_ns;
  uint32_t mode;
  uint32_t path_len;  // path bytes follow, then zero padding to 8
  uint32_t data_len;  // pipes: bytes buffered in the pipe, after the path
  uint32_t reserved;  // deleted files: F_GET_SEALS; pipes: kPipeOtherEndGone
};
// A pipe end whose other end no process has any more (not one outside the
// image): a read end gets its bytes then EOF, a write end EPIPE.
inline constexpr uint32_t kPipeOtherEndGone = 1;

// A socket's state, stored as the data of its FileRecord (data_len covers
// all of it): SocketRecord, then pending_count uint64 inodes (a listening
// socket's connections not yet accepted, oldest first), then message_count
// queued messages, each a SocketMessage and its bytes padded to 8. These are
// the bytes waiting in this socket's receive queue; for a stream socket one
// message holds them all, for datagram and seqpacket one message per packet.
enum SocketState : uint32_t { kSockUnconnected = 0, kSockListening = 1, kSockConnected = 2, kSockClosed = 3 };
enum SocketOptions : uint32_t {
  kSockOptPassCred = 1, kSockOptReuseAddr = 2, kSockOptKeepAlive = 4, kSockOptNoDelay = 8,
  kSockOptReusePort = 16, kSockOptV6Only = 32,
};
// shutdown bits as sock_diag reports them (the kernel's sk_shutdown)
enum SocketShutdown : uint32_t { kSockShutRead = 1, kSockShutWrite = 2 };

struct SocketRecord {
  uint32_t family, type, protocol;
  uint32_t state;       // SocketState
  uint64_t peer_ino;    // the connected peer's inode (0: none or unknown)
  uint32_t shutdown;    // SocketShutdown
  uint32_t backlog;     // listening: the listen() backlog
  int32_t sndbuf, rcvbuf;  // SO_SNDBUF/SO_RCVBUF as getsockopt reports (doubled)
  uint32_t options;     // SocketOptions
  int32_t keepidle, keepintvl, keepcnt;  // TCP keepalive timings
  uint32_t local_len, peer_len;  // bytes of local/peer below (sockaddr)
  uint32_t message_count;
  uint32_t pending_count;
  uint64_t queued_bytes;  // sum of the messages' lengths
  uint64_t unsent_bytes;  // TCP: SIOCOUTQ at checkpoint (must be 0: see docs); listener: accept queue length
  uint64_t bytes_acked;   // TCP: tcpi_bytes_acked (a connection not accepted yet must have sent nothing)
  uint8_t local[128];
  uint8_t peer[128];
};
static_assert(sizeof(SocketRecord) == 352);

struct SocketMessage {
  uint32_t len;
  uint32_t sender_len;  // datagrams to an unconnected socket: the sender's address
  uint8_t sender[112];  // sockaddr_un / sockaddr_in6 (fits)
};

enum VmaFlags : uint32_t {
  kVmaRead = 1, kVmaWrite = 2, kVmaExec = 4,
  kVmaShared = 8, kVmaAnon = 16, kVmaGrowsDown = 32,
  kVmaHeap = 64, kVmaStack = 128,
};

struct VmaRecord {
  uint64_t start, end;
  uint64_t file_offset;
  uint64_t dev, ino;
  uint64_t file_size, mtime_ns;  // to detect a file changed since the checkpoint
  uint32_t flags;      // VmaFlags
  uint32_t first_run;  // index into the process's PageRun[]
  uint32_t run_count;
  uint32_t path_len;   // path bytes follow, then zero padding to 8
};

// A run of saved pages; data lives in the PAGES section at data_offset.
struct PageRun {
  uint64_t start;
  uint64_t pages;
  uint64_t data_offset;  // absolute file offset
};

struct EndRecord {
  uint64_t section_count;  // sections before END
  uint64_t file_size;      // total size including END
};

// ---- Event objects (eventfd, timerfd, signalfd, epoll, inotify, pidfd) ----
// One EventRecord per event fd of a process, in its EVENTS section, followed
// by `item_count` EpollItemRecords (epoll) or InotifyWatchRecords + path
// (inotify). The fd also has its ordinary FileRecord in FILES.
struct EventRecord {
  int32_t fd;
  uint32_t kind;        // FileKind
  uint32_t item_count;  // epoll: registrations; inotify: watches
  uint32_t flags;       // eventfd: kEventfdSemaphore; timerfd: settime flags
  // eventfd: count. timerfd: clockid. signalfd: sigmask. pidfd: target pid
  // (in the tree's pid namespace).
  uint64_t value;
  // timerfd only: remaining time and interval (ns), expirations not read
  // yet, and for TFD_TIMER_ABSTIME the absolute deadline on its clock.
  uint64_t remaining_ns, interval_ns, ticks, deadline_ns;
};
static_assert(sizeof(EventRecord) == 56);
inline constexpr uint32_t kEventfdSemaphore = 1;

struct EpollItemRecord {
  int32_t tfd;      // fd number it was registered with (and still is)
  uint32_t events;  // EPOLLIN... incl. EPOLLET / EPOLLONESHOT
  uint64_t data;
};

struct InotifyWatchRecord {
  int32_t wd;
  uint32_t mask;      // as inotify_add_watch takes it
  uint32_t path_len;  // path bytes follow, then zero padding to 8
  uint32_t reserved;
};

// Descriptors (of one process or several) that are one open file: the
// same `group` number. Event fds absent here are not shared.
struct EventShare {
  uint32_t process;  // index in the image
  int32_t fd;
  uint32_t group;
  uint32_t reserved;
};

// A child that had exited but was not reaped yet by its parent (a process of
// the image): restored as a child of that parent which exits with the same
// wait status once the tree resumes, so the parent reaps it as it would have.
struct ZombieRecord {
  int32_t pid, ppid;     // inside the pid namespace; ppid is a process of the image
  int32_t pgid, sid;     // inside the pid namespace, 0 if outside the image
  int32_t wait_status;   // as waitpid reports it (never with the core-dump bit)
  uint32_t reserved;
};
static_assert(sizeof(ZombieRecord) == 24);

// The tree's CLOCK_MONOTONIC and CLOCK_BOOTTIME when it was stopped (in its
// time namespace, if an earlier restart gave it one).
struct ClockRecord {
  int64_t monotonic_ns;
  int64_t boottime_ns;
  uint64_t reserved[2];
};
static_assert(sizeof(ClockRecord) == 32);

// A signal pending at the checkpoint, with its siginfo (a sigqueue value,
// the sender, a timer's id...): queued again, in the same order, after a
// restart and after a live checkpoint.
struct PendingSignalRecord {
  int32_t tid;        // the thread it is pending for (as the process sees it), 0: the whole process
  uint32_t reserved;
  uint8_t info[128];  // siginfo_t
};
static_assert(sizeof(PendingSignalRecord) == 136);
inline constexpr uint32_t kMaxPendingSignals = 1024;  // per process

// A file lock held through one fd (flock, POSIX fcntl or OFD), taken again
// through the same fd by the restorer before the process is ready.
enum FileLockKind : uint32_t { kLockFlock = 1, kLockPosix = 2, kLockOfd = 3 };
struct FileLockRecord {
  int32_t fd;
  uint32_t kind;   // FileLockKind
  uint32_t write;  // 1: exclusive/write lock, 0: shared/read lock
  uint32_t reserved;
  int64_t start;   // POSIX and OFD: first byte
  int64_t len;     // bytes, 0: to the end of the file (and beyond)
};
static_assert(sizeof(FileLockRecord) == 32);
inline constexpr uint32_t kMaxFileLocks = 4096;  // per process

// A POSIX timer (timer_create), re-created with the same id.
struct PosixTimerRecord {
  int32_t id;
  int32_t clock;
  int32_t notify;      // sigev_notify: SIGEV_SIGNAL, SIGEV_NONE, or SIGEV_THREAD_ID
  int32_t signo;
  int32_t target_tid;  // SIGEV_THREAD_ID: the thread (as the process sees it)
  uint32_t reserved;
  uint64_t sigev_value;
  int64_t value_ns;     // time to the next expiry (0: disarmed)
  int64_t interval_ns;
};
static_assert(sizeof(PosixTimerRecord) == 48);
inline constexpr uint32_t kMaxPosixTimers = 512;  // per process

inline constexpr uint64_t AlignUp(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

}  // namespace reprise::cr
