// The address space: one VmaRecord per mapping of /proc/self/maps, and the
// pages that cannot be found anywhere else (anonymous pages, copy-on-write
// copies in private file mappings), found through /proc/self/pagemap so that
// never-touched memory costs nothing.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent_state.h"
#include "section_writer.h"

namespace reprise::cr::agent {
namespace {

constexpr uint64_t kPagemapPresent = 1ull << 63;
constexpr uint64_t kPagemapSwapped = 1ull << 62;
constexpr uint64_t kPagemapFilePage = 1ull << 61;

struct Mapping {
  uint64_t start, end, offset;
  uint64_t dev, ino;
  uint32_t prot;  // PROT_*
  bool shared;
  const char* path;  // points into the maps text; "" for anonymous
  uint32_t path_len;
};

enum class MappingRole { kSave, kSkip, kVvar, kVclock, kVdso };

bool StartsWith(const char* s, uint32_t len, const char* prefix) {
  size_t n = strlen(prefix);
  return len >= n && memcmp(s, prefix, n) == 0;
}

bool PathIs(const Mapping& m, const char* name) {
  return m.path_len == strlen(name) && memcmp(m.path, name, m.path_len) == 0;
}

// Parses one line of /proc/self/maps; returns the start of the next line.
const char* ParseMapsLine(const char* s, Mapping& m) {
  m.start = ParseHex(s);
  ++s;  // '-'
  m.end = ParseHex(s);
  ++s;
  m.prot = (s[0] == 'r' ? PROT_READ : 0) | (s[1] == 'w' ? PROT_WRITE : 0) | (s[2] == 'x' ? PROT_EXEC : 0);
  m.shared = s[3] == 's';
  s += 5;
  m.offset = ParseHex(s);
  ++s;
  uint64_t maj = ParseHex(s);
  ++s;
  uint64_t min = ParseHex(s);
  m.dev = makedev(maj, min);
  ++s;
  m.ino = ParseDec(s);
  while (*s == ' ') ++s;
  m.path = s;
  while (*s && *s != '\n') ++s;
  m.path_len = static_cast<uint32_t>(s - m.path);
  return *s ? s + 1 : s;
}

bool IsDeleted(const Mapping& m) {
  return m.path_len >= 10 && memcmp(m.path + m.path_len - 10, " (deleted)", 10) == 0;
}

// A shared mapping of memory that only the kernel holds: MAP_SHARED|MAP_ANONYMOUS
// ("/dev/zero (deleted)"), a memfd, or a file unlinked after mapping (POSIX shm
// and semaphores, e.g. Python multiprocessing's). Its pages are saved and the
// restart maps one memfd per object (dev, ino) into every process that had it.
bool IsSharedObject(const Mapping& m) {
  return m.shared && (StartsWith(m.path, m.path_len, "/dev/zero") || IsDeleted(m));
}

const char* HexText(uint64_t v) {
  static char buf[24];
  char* p = buf + sizeof buf - 1;
  *p = '\0';
  do *--p = "0123456789abcdef"[v & 15];
  while (v >>= 4);
  return p;
}

MappingRole Classify(const Mapping& m, DumpError& err) {
  if (m.start >= g_agent.arena.begin() && m.end <= g_agent.arena.end()) return MappingRole::kSkip;
  if (PathIs(m, "[vsyscall]")) return MappingRole::kSkip;
  if (PathIs(m, "[vvar]")) return MappingRole::kVvar;
  if (PathIs(m, "[vvar_vclock]")) return MappingRole::kVclock;
  if (PathIs(m, "[vdso]")) return MappingRole::kVdso;
  if (m.path_len == 0 || PathIs(m, "[heap]") || PathIs(m, "[stack]") || StartsWith(m.path, m.path_len, "[anon:"))
    return MappingRole::kSave;
  if (StartsWith(m.path, m.path_len, "/SYSV")) {
    err.Set(ENOTSUP, "SysV shared memory segment (shmat) at 0x", HexText(m.start),
            " cannot be checkpointed; use mmap(MAP_SHARED|MAP_ANONYMOUS), shm_open or memfd_create instead");
    return MappingRole::kSkip;
  }
  if (m.path[0] == '[') {
    err.Set(ENOTSUP, "unsupported special mapping in the address space");
    return MappingRole::kSkip;
  }
  if (IsDeleted(m) && !m.shared) {
    err.Set(ENOTSUP, "private mapping of a deleted file at 0x", HexText(m.start),
            " cannot be mapped again at restart; keep the file until the job ends");
    return MappingRole::kSkip;
  }
  return MappingRole::kSave;
}

// Mapping contents behave like anonymous memory (no file to re-map from).
bool IsAnonymous(const Mapping& m) { return m.path_len == 0 || m.path[0] == '[' || IsSharedObject(m); }

// A POSIX shm object still in /dev/shm, mapped shared: its pages are saved too
// (tmpfs does not update mtime on writes through a mapping, so a restart could
// not tell that the job changed it after the checkpoint); the restart writes
// them back into the file before mapping it.
bool IsShmFile(const Mapping& m) {
  return m.shared && !IsDeleted(m) && StartsWith(m.path, m.path_len, "/dev/shm/") &&
         !memchr(m.path + 9, '/', m.path_len - 9);  // shm_open names: no subdirectories
}

// Anonymous memory is recorded without a name ([heap] and [stack] are flags);
// a shared object keeps its name ("/memfd:x (deleted)"), for cr_info only.
uint32_t RecordedPathLen(const Mapping& m) { return IsAnonymous(m) && !IsSharedObject(m) ? 0 : m.path_len; }

uint32_t VmaFlagsOf(const Mapping& m) {
  uint32_t f = 0;
  if (m.prot & PROT_READ) f |= kVmaRead;
  if (m.prot & PROT_WRITE) f |= kVmaWrite;
  if (m.prot & PROT_EXEC) f |= kVmaExec;
  if (m.shared) f |= kVmaShared;
  if (IsAnonymous(m)) f |= kVmaAnon;
  if (PathIs(m, "[heap]")) f |= kVmaHeap;
  if (PathIs(m, "[stack]")) f |= kVmaStack | kVmaGrowsDown;
  return f;
}

// Whether a page of this mapping must be saved, given its pagemap entry.
bool PageNeedsSaving(const Mapping& m, uint64_t entry) {
  if (m.shared) return IsAnonymous(m);  // shared anonymous: all of it (shared file: the file has it)
  if (entry & kPagemapSwapped) return true;
  if (!(entry & kPagemapPresent)) return false;
  return IsAnonymous(m) || !(entry & kPagemapFilePage);  // private file: only copy-on-write copies
}

struct RunList {
  PageRun* runs = nullptr;
  uint32_t count = 0;
  uint32_t capacity = 0;
  bool Add(uint64_t start, uint64_t pages) {
    if (count && runs[count - 1].start + runs[count - 1].pages * kPageSize == start) {
      runs[count - 1].pages += pages;
      return true;
    }
    if (count == capacity) return false;
    runs[count++] = {start, pages, 0};
    return true;
  }
};

// Whether the page at addr can be read. A shared object's pages past its end
// raise SIGBUS when touched; process_vm_readv on ourselves reports EFAULT instead.
bool PageReadable(uint64_t addr) {
  char byte;
  iovec local{&byte, 1};
  iovec remote{reinterpret_cast<void*>(addr), 1};
  return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == 1;
}

// How many pages from the start of a shared object mapping lie within the
// object (the rest, past its end after a shrink or an mremap, is not saved).
// They are a prefix of the mapping: binary search for its end.
uint64_t BackedPages(const Mapping& m) {
  uint64_t total = (m.end - m.start) / kPageSize;
  bool opened = !(m.prot & PROT_READ);
  if (opened) mprotect(reinterpret_cast<void*>(m.start), m.end - m.start, m.prot | PROT_READ);
  uint64_t lo = 0, hi = total;  // pages [0, lo) readable, [hi, total) not
  if (PageReadable(m.start + (total - 1) * kPageSize)) lo = hi = total;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (PageReadable(m.start + mid * kPageSize)) lo = mid + 1;
    else hi = mid;
  }
  if (opened) mprotect(reinterpret_cast<void*>(m.start), m.end - m.start, m.prot);
  return lo;
}

// Adds the runs of pages of m that need saving.
bool CollectRuns(const Mapping& m, int pagemap_fd, RunList& runs, DumpError& err) {
  if (m.prot == PROT_NONE) return true;
  if (m.shared && !IsAnonymous(m) && !IsShmFile(m)) return true;
  if (m.shared) {
    uint64_t pages = BackedPages(m);
    return !pages || runs.Add(m.start, pages) || (err.Set(ENOMEM, "too many page runs"), false);
  }
  constexpr size_t kBatch = 8192;
  uint64_t entries[kBatch];
  for (uint64_t addr = m.start; addr < m.end;) {
    uint64_t pages = (m.end - addr) / kPageSize;
    if (pages > kBatch) pages = kBatch;
    ssize_t n = pread(pagemap_fd, entries, pages * 8, static_cast<off_t>(addr / kPageSize * 8));
    if (n != static_cast<ssize_t>(pages * 8)) {
      err.Set(errno ? errno : EIO, "cannot read /proc/self/pagemap");
      return false;
    }
    for (uint64_t i = 0; i < pages; ++i) {
      if (!PageNeedsSaving(m, entries[i])) continue;
      if (!runs.Add(addr + i * kPageSize, 1)) {
        err.Set(ENOMEM, "too many page runs");
        return false;
      }
    }
    addr += pages * kPageSize;
  }
  return true;
}

// What SurveyMemory found, for WriteMemory (all of it lives in the arena).
struct Survey {
  Mapping* maps;
  uint32_t* vma_map;
  uint32_t vma_count;
  uint32_t* first_run;
  RunList runs;
};
Survey g_survey;

// Pages are copied into a bounce buffer, then hashed and written from it, so
// the bytes hashed are exactly the bytes written even where memory still
// moves while we dump: our own stack (we are running on it) and, for a
// moment after they parked, the stacks of the other threads below their
// park points. Those changes are below a park point, dead after a restart;
// nothing above one changes while we dump. (Hashing live memory and writing
// it separately let such pages differ between the two, which showed up as
// checksum mismatches in images of busy multi-threaded programs.)
constexpr uint64_t kBounceSize = 4 << 20;

int WriteRange(int fd, uint64_t start, uint64_t len, char* bounce, XXH3_state_t* state) {
  while (len) {
    uint64_t piece = len < kBounceSize ? len : kBounceSize;
    memcpy(bounce, reinterpret_cast<const void*>(start), piece);
    XXH3_64bits_update(state, bounce, piece);
    if (int e = WriteAll(fd, bounce, piece)) return e;
    start += piece;
    len -= piece;
  }
  return 0;
}

// Writes the saved pages, hashing them in file order.
int WritePages(int fd, const Mapping* maps, const uint32_t* vma_map, uint32_t vma_count, const RunList& runs,
               uint64_t* hash_out) {
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  // Unreadable mappings with saved pages (e.g. write-only) are opened up while we copy.
  for (uint32_t v = 0; v < vma_count; ++v) {
    const Mapping& m = maps[vma_map[v]];
    if (!(m.prot & PROT_READ) && m.prot != PROT_NONE)
      mprotect(reinterpret_cast<void*>(m.start), m.end - m.start, m.prot | PROT_READ);
  }
  char* bounce = static_cast<char*>(g_agent.arena.Alloc(kBounceSize, kPageSize));
  int result = bounce ? 0 : ENOMEM;
  for (uint32_t r = 0; r < runs.count && !result; ++r)
    result = WriteRange(fd, runs.runs[r].start, runs.runs[r].pages * kPageSize, bounce, &state);
  for (uint32_t v = 0; v < vma_count; ++v) {
    const Mapping& m = maps[vma_map[v]];
    if (!(m.prot & PROT_READ) && m.prot != PROT_NONE)
      mprotect(reinterpret_cast<void*>(m.start), m.end - m.start, m.prot);
  }
  *hash_out = XXH3_64bits_digest(&state);
  return result;
}


}  // namespace

bool SurveyMemory(DumpError& err) {
  Arena& arena = g_agent.arena;
  char* text;
  if (ReadWholeFile("/proc/self/maps", arena, &text) < 0) {
    err.Set(errno, "cannot read /proc/self/maps");
    return false;
  }
  size_t lines = 0;
  for (const char* p = text; *p; ++p) lines += *p == '\n';
  auto* maps = arena.AllocArray<Mapping>(lines + 1);
  auto* vma_map = arena.AllocArray<uint32_t>(lines + 1);
  if (!maps || !vma_map) {
    err.Set(ENOMEM, "address space too large to describe");
    return false;
  }
  uint32_t count = 0, vma_count = 0;
  ProcessRecord& p = g_agent.process;
  for (const char* s = text; *s && count <= lines;) {
    Mapping& m = maps[count];
    s = ParseMapsLine(s, m);
    switch (Classify(m, err)) {
      case MappingRole::kSave: vma_map[vma_count++] = count; break;
      case MappingRole::kVvar: p.vvar_start = m.start; p.vvar_size = m.end - m.start; break;
      case MappingRole::kVclock: p.vclock_start = m.start; p.vclock_size = m.end - m.start; break;
      case MappingRole::kVdso: p.vdso_start = m.start; p.vdso_size = m.end - m.start; break;
      case MappingRole::kSkip: break;
    }
    if (err.code) return false;
    ++count;
  }

  int pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pagemap < 0) {
    err.Set(errno, "cannot open /proc/self/pagemap");
    return false;
  }
  RunList runs;
  runs.capacity = 4u << 20;
  runs.runs = static_cast<PageRun*>(arena.Alloc(sizeof(PageRun) * runs.capacity, 16));
  auto* first_run = arena.AllocArray<uint32_t>(vma_count + 1);
  bool ok = runs.runs && first_run;
  for (uint32_t v = 0; v < vma_count && ok; ++v) ok = CollectRuns(maps[vma_map[v]], pagemap, runs, err);
  close(pagemap);
  if (!ok) {
    if (!err.code) err.Set(ENOMEM, "scratch memory exhausted");
    return false;
  }

  // RunList::Add merges contiguous pages, and VMAs can be adjacent: split
  // runs at VMA boundaries so that each run belongs to exactly one VMA.
  uint32_t r = 0;
  for (uint32_t v = 0; v < vma_count; ++v) {
    const Mapping& m = maps[vma_map[v]];
    first_run[v] = r;
    while (r < runs.count && runs.runs[r].start < m.end) {
      uint64_t run_end = runs.runs[r].start + runs.runs[r].pages * kPageSize;
      if (run_end > m.end) {  // split at the VMA boundary
        if (runs.count == runs.capacity) {
          err.Set(ENOMEM, "too many page runs");
          return false;
        }
        memmove(&runs.runs[r + 2], &runs.runs[r + 1], (runs.count - r - 1) * sizeof(PageRun));
        runs.runs[r + 1] = {m.end, (run_end - m.end) / kPageSize, 0};
        runs.runs[r].pages = (m.end - runs.runs[r].start) / kPageSize;
        ++runs.count;
      }
      ++r;
    }
  }
  first_run[vma_count] = runs.count;
  g_survey = {maps, vma_map, vma_count, first_run, runs};
  return true;
}

bool WriteMemory(int fd, uint32_t owner, DumpError& err) {
  Arena& arena = g_agent.arena;
  const Mapping* maps = g_survey.maps;
  const uint32_t* vma_map = g_survey.vma_map;
  const uint32_t vma_count = g_survey.vma_count;
  const uint32_t* first_run = g_survey.first_run;
  RunList& runs = g_survey.runs;

  // Lay out VMAS, RUNS, then PAGES (4 KiB aligned) from the current offset.
  size_t vma_bytes = 0;
  for (uint32_t v = 0; v < vma_count; ++v) vma_bytes += sizeof(VmaRecord) + AlignUp(RecordedPathLen(maps[vma_map[v]]), 8);
  char* vma_payload = static_cast<char*>(arena.Alloc(vma_bytes, 8));
  if (!vma_payload) {
    err.Set(ENOMEM, "scratch memory exhausted");
    return false;
  }
  memset(vma_payload, 0, vma_bytes);
  char* dst = vma_payload;
  for (uint32_t v = 0; v < vma_count; ++v) {
    const Mapping& m = maps[vma_map[v]];
    VmaRecord rec{};
    rec.start = m.start;
    rec.end = m.end;
    rec.file_offset = m.offset;
    rec.dev = m.dev;
    rec.ino = m.ino;
    rec.flags = VmaFlagsOf(m);
    rec.first_run = first_run[v];
    rec.run_count = first_run[v + 1] - first_run[v];
    rec.path_len = RecordedPathLen(m);
    if (!(rec.flags & kVmaAnon)) {
      char path[4096];
      memcpy(path, m.path, m.path_len);
      path[m.path_len] = '\0';
      struct stat st {};
      if (stat(path, &st) == 0) {
        rec.file_size = static_cast<uint64_t>(st.st_size);
        rec.mtime_ns = static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + static_cast<uint64_t>(st.st_mtim.tv_nsec);
      }
    }
    memcpy(dst, &rec, sizeof rec);
    memcpy(dst + sizeof rec, m.path, rec.path_len);
    dst += sizeof rec + AlignUp(rec.path_len, 8);
  }

  off_t here = lseek(fd, 0, SEEK_CUR);
  if (here < 0) {
    err.Set(errno, "cannot seek in the image");
    return false;
  }
  uint64_t runs_header = static_cast<uint64_t>(here) + sizeof(SectionHeader) + vma_bytes;
  uint64_t pages_header = runs_header + sizeof(SectionHeader) + runs.count * sizeof(PageRun);
  uint64_t pages_data = AlignUp(pages_header + sizeof(SectionHeader), kPageSize);
  uint64_t at = pages_data;
  for (uint32_t i = 0; i < runs.count; ++i) {
    runs.runs[i].data_offset = at;
    at += runs.runs[i].pages * kPageSize;
  }
  int e = AppendSection(fd, owner, SectionType::kVmas, vma_payload, vma_bytes);
  if (!e) e = AppendSection(fd, owner, SectionType::kRuns, runs.runs, runs.count * sizeof(PageRun));
  if (!e && lseek(fd, static_cast<off_t>(pages_data), SEEK_SET) < 0) e = errno;
  uint64_t hash = 0;
  if (!e) e = WritePages(fd, maps, vma_map, vma_count, runs, &hash);
  if (!e) {
    SectionHeader h = MakeSectionHeader(SectionType::kPages, owner, pages_data, at - pages_data, hash);
    e = PwriteAll(fd, &h, sizeof h, static_cast<off_t>(pages_header));
  }
  if (e) {
    err.Set(e, "writing the image: ", strerror(e));
    return false;
  }
  return true;
}

}  // namespace reprise::cr::agent
