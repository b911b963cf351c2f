#include "lib/image_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <set>

#include "format/hash.h"

namespace reprise::cr {
namespace {

class ImageFile {
 public:
  explicit ImageFile(const std::string& path) : path_(path) {
    fd_ = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw ImageError(errno, "cannot open '" + path + "': " + strerror(errno));
    struct stat st {};
    fstat(fd_, &st);
    if (!S_ISREG(st.st_mode)) throw ImageError(EINVAL, "'" + path + "' is not a regular file");
    size_ = static_cast<uint64_t>(st.st_size);
  }
  ~ImageFile() { close(fd_); }
  ImageFile(const ImageFile&) = delete;
  ImageFile& operator=(const ImageFile&) = delete;

  uint64_t size() const { return size_; }
  int fd() const { return fd_; }

  void Read(void* dst, uint64_t len, uint64_t off) const {
    if (off > size_ || len > size_ - off) Truncated("data runs past the end of the file");
    auto* p = static_cast<char*>(dst);
    while (len) {
      ssize_t n = pread(fd_, p, len, static_cast<off_t>(off));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw ImageError(errno, "cannot read '" + path_ + "': " + strerror(errno));
      if (n == 0) Truncated("unexpected end of file");
      p += n;
      off += static_cast<uint64_t>(n);
      len -= static_cast<uint64_t>(n);
    }
  }

  // Hashes [off, off+len) in chunks, without holding it all in memory.
  uint64_t Hash(uint64_t off, uint64_t len) const {
    XXH3_state_t state;
    XXH3_64bits_reset(&state);
    std::unique_ptr<char[]> buf(new char[1 << 20]);
    while (len) {
      uint64_t chunk = len < (1u << 20) ? len : (1u << 20);
      Read(buf.get(), chunk, off);
      XXH3_64bits_update(&state, buf.get(), chunk);
      off += chunk;
      len -= chunk;
    }
    return XXH3_64bits_digest(&state);
  }

  [[noreturn]] void Truncated(const std::string& why) const {
    throw ImageError(EINVAL, "'" + path_ + "' is truncated (" + why + ")");
  }
  [[noreturn]] void Corrupt(const std::string& why) const {
    throw ImageError(EINVAL, "'" + path_ + "' is corrupt: " + why);
  }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

const char* SectionName(uint32_t type) {
  switch (static_cast<SectionType>(type)) {
    case SectionType::kImageInfo: return "image info";
    case SectionType::kProcess: return "process";
    case SectionType::kThreads: return "threads";
    case SectionType::kSigactions: return "signal actions";
    case SectionType::kFiles: return "files";
    case SectionType::kVmas: return "memory map";
    case SectionType::kRuns: return "page runs";
    case SectionType::kPages: return "page data";
    case SectionType::kEnd: return "end";
    case SectionType::kEvents: return "events";
    case SectionType::kEventShares: return "event shares";
    case SectionType::kZombies: return "zombies";
    case SectionType::kClocks: return "clocks";
    case SectionType::kSignals: return "pending signals";
    case SectionType::kPosixTimers: return "POSIX timers";
    case SectionType::kFileLocks: return "file locks";
  }
  return "unknown";
}

template <typename T>
std::vector<T> AsArray(const ImageFile& f, const std::vector<char>& payload, const char* what) {
  if (payload.size() % sizeof(T)) f.Corrupt(std::string("bad size of the ") + what + " section");
  std::vector<T> out(payload.size() / sizeof(T));
  if (!out.empty()) memcpy(out.data(), payload.data(), payload.size());
  return out;
}

// Pipes hold at most 1 MiB; a socket's state (SocketRecord and its queued
// messages) at most 16 MiB, as the agent writes it.
uint64_t DataLimit(const FileRecord& r) {
  auto kind = static_cast<FileKind>(r.kind);
  if (kind == FileKind::kDeletedFile) return kMaxDeletedFileBytes;
  if (kind == FileKind::kRewrittenFile) return kMaxRewrittenFileBytes;
  return kind == FileKind::kUnixSocket || kind == FileKind::kInetSocket ? (16u << 20) : (1u << 20);
}

// Records of a fixed struct followed by path bytes padded to 8.
template <typename Rec, typename Entry>
std::vector<Entry> AsPathRecords(const ImageFile& f, const std::vector<char>& payload, const char* what) {
  std::vector<Entry> out;
  size_t at = 0;
  while (at < payload.size()) {
    Entry e{};
    if (payload.size() - at < sizeof(Rec)) f.Corrupt(std::string("short record in the ") + what + " section");
    memcpy(&e.record, payload.data() + at, sizeof(Rec));
    at += sizeof(Rec);
    uint64_t padded = AlignUp(e.record.path_len, 8);
    if (e.record.path_len > 4096 || payload.size() - at < padded)
      f.Corrupt(std::string("bad path in the ") + what + " section");
    e.path.assign(payload.data() + at, e.record.path_len);
    at += padded;
    if constexpr (requires { e.data; }) {  // bytes that were waiting in a pipe
      uint64_t data_padded = AlignUp(e.record.data_len, 8);
      if (e.record.data_len > DataLimit(e.record) || payload.size() - at < data_padded)
        f.Corrupt(std::string("bad pipe, socket or deleted/rewritten-file data in the ") + what + " section");
      e.data.assign(payload.data() + at, e.record.data_len);
      at += data_padded;
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<EventEntry> AsEvents(const ImageFile& f, const std::vector<char>& payload) {
  std::vector<EventEntry> out;
  size_t at = 0;
  auto take = [&](void* dst, size_t n) {
    if (payload.size() - at < n) f.Corrupt("short record in the events section");
    memcpy(dst, payload.data() + at, n);
    at += n;
  };
  while (at < payload.size()) {
    EventEntry e;
    take(&e.record, sizeof e.record);
    if (!IsEventKind(e.record.kind) || e.record.item_count > (1u << 20)) f.Corrupt("bad record in the events section");
    for (uint32_t i = 0; i < e.record.item_count; ++i) {
      if (e.record.kind == static_cast<uint32_t>(FileKind::kEpoll)) {
        EpollItemRecord item{};
        take(&item, sizeof item);
        e.epoll_items.push_back(item);
      } else if (e.record.kind == static_cast<uint32_t>(FileKind::kInotify)) {
        InotifyWatchRecord w{};
        take(&w, sizeof w);
        uint64_t padded = AlignUp(w.path_len, 8);
        if (w.path_len == 0 || w.path_len > 4096 || payload.size() - at < padded)
          f.Corrupt("bad inotify path in the events section");
        std::string path(payload.data() + at, w.path_len);
        at += padded;
        e.watches.push_back({w, path});
      } else {
        f.Corrupt("items for an event object that has none");
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

void CheckProcess(const ImageFile& f, const ProcessImage& p) {
  if (p.threads.empty()) f.Corrupt("a process has no threads");
  if (p.sigactions.size() != 64) f.Corrupt("a process lacks its signal actions");
  uint64_t prev_end = 0;
  for (const VmaEntry& v : p.vmas) {
    const VmaRecord& r = v.record;
    if (r.start >= r.end || r.start % kPageSize || r.end % kPageSize || r.start < prev_end)
      f.Corrupt("memory map out of order");
    prev_end = r.end;
    if (uint64_t{r.first_run} + r.run_count > p.runs.size()) f.Corrupt("page runs out of range");
    for (uint32_t i = 0; i < r.run_count; ++i) {
      const PageRun& run = p.runs[r.first_run + i];
      if (run.start < r.start || run.start + run.pages * kPageSize > r.end || run.pages == 0)
        f.Corrupt("page run outside its memory region");
    }
  }
  uint64_t expect = p.pages_offset;
  for (const PageRun& run : p.runs) {
    if (run.data_offset != expect) f.Corrupt("page data out of order");
    expect += run.pages * kPageSize;
  }
  if (expect - p.pages_offset != p.pages_size) f.Corrupt("page data size does not match its runs");
  for (const FileEntry& fe : p.files)
    if (IsEventKind(fe.record.kind) && !EventFor(p, fe.record.fd)) f.Corrupt("an event object lacks its state");
  auto is_thread = [&](int32_t tid) {
    for (const ThreadRecord& t : p.threads)
      if (t.tid == tid) return true;
    return false;
  };
  for (const PendingSignalRecord& s : p.pending_signals) {
    int signo = 0;
    memcpy(&signo, s.info, sizeof signo);  // si_signo comes first
    if (signo < 1 || signo > 64 || (s.tid != 0 && !is_thread(s.tid))) f.Corrupt("bad pending signal");
  }
  for (const FileLockRecord& l : p.file_locks) {
    bool open_fd = false;
    for (const FileEntry& fe : p.files) open_fd |= fe.record.fd == l.fd;
    if (!open_fd || l.kind < kLockFlock || l.kind > kLockOfd || l.start < 0 || l.len < 0) f.Corrupt("bad file lock");
  }
  for (const PosixTimerRecord& t : p.posix_timers)
    if (t.value_ns < 0 || t.interval_ns < 0 || ((t.notify & 4 /* SIGEV_THREAD_ID */) && !is_thread(t.target_tid)))
      f.Corrupt("bad POSIX timer");
}

// Each zombie's parent is a process of the image, and no pid is used twice.
void CheckZombies(const ImageFile& f, const Image& img) {
  std::set<int32_t> parents;
  for (const ProcessImage& p : img.processes) parents.insert(p.process.pid);
  std::set<int32_t> used = parents;
  for (const ZombieRecord& z : img.zombies) {
    if (!parents.count(z.ppid)) f.Corrupt("a zombie's parent is not in the image");
    if (z.pid <= 0 || !used.insert(z.pid).second) f.Corrupt("a zombie's pid is not its own");
  }
}

}  // namespace

bool IsEventKind(uint32_t kind) {
  return kind >= static_cast<uint32_t>(FileKind::kEventfd) && kind <= static_cast<uint32_t>(FileKind::kPidfd);
}

const EventEntry* EventFor(const ProcessImage& p, int fd) {
  for (const EventEntry& e : p.events)
    if (e.record.fd == fd) return &e;
  return nullptr;
}

Image ReadImage(const std::string& path, bool verify_pages) {
  ImageFile f(path);
  Image img;
  img.path = path;
  img.file_size = f.size();
  const std::string not_image = "'" + path + "' is not a Reprise checkpoint image";
  if (f.size() < sizeof(FileHeader)) {
    char magic[8] = {};
    uint64_t n = f.size() < 8 ? f.size() : 8;
    f.Read(magic, n, 0);
    if (n == 0 || memcmp(magic, kImageMagic, n) != 0) throw ImageError(EINVAL, not_image);
    f.Truncated("no complete header");
  }
  f.Read(&img.header, sizeof img.header, 0);
  if (memcmp(img.header.magic, kImageMagic, 8) != 0) throw ImageError(EINVAL, not_image);
  if (img.header.version > kFormatVersion)
    throw ImageError(EINVAL, "'" + path + "' has image format version " + std::to_string(img.header.version) +
                                 ", newer than this program supports (" + std::to_string(kFormatVersion) + ")");
  if (img.header.header_hash != reprise_hash(&img.header, offsetof(FileHeader, header_hash)))
    f.Corrupt("header checksum mismatch");
  if (img.header.version < kOldestFormatVersion || img.header.header_size != sizeof(FileHeader))
    f.Corrupt("unknown header layout");
  if (img.header.arch != kArchX86_64) throw ImageError(EINVAL, "'" + path + "' was taken on another architecture");

  uint64_t off = sizeof(FileHeader);
  bool ended = false;
  bool have_info = false;
  std::vector<EventShare> shares;
  while (!ended) {
    if (off == f.size()) f.Truncated("the end marker is missing");
    SectionHeader h{};
    f.Read(&h, sizeof h, off);
    if (h.magic != kSectionMagic || h.header_hash != reprise_hash(&h, offsetof(SectionHeader, header_hash)))
      f.Corrupt("bad section header at offset " + std::to_string(off));
    bool pages = h.type == static_cast<uint32_t>(SectionType::kPages);
    uint64_t expect_payload = pages ? AlignUp(off + sizeof h, kPageSize) : off + sizeof h;
    if (h.payload_offset != expect_payload) f.Corrupt("misplaced section payload at offset " + std::to_string(off));
    if (h.payload_offset > f.size() || h.payload_size > f.size() - h.payload_offset)
      f.Truncated(std::string("the ") + SectionName(h.type) + " section is cut short");
    if (pages && h.payload_offset > off + sizeof h) {  // the alignment gap must be zeros
      std::vector<char> gap(h.payload_offset - off - sizeof h);
      f.Read(gap.data(), gap.size(), off + sizeof h);
      for (char c : gap)
        if (c) f.Corrupt("non-zero padding before page data");
    }
    if (h.owner != kImageWide && (!have_info || h.owner >= img.processes.size()))
      f.Corrupt("section for an unknown process");
    std::vector<char> payload;
    if (!pages) {
      if (h.payload_size > (256u << 20)) f.Corrupt("oversized metadata section");
      payload.resize(h.payload_size);
      f.Read(payload.data(), payload.size(), h.payload_offset);
      if (reprise_hash(payload.data(), payload.size()) != h.payload_hash)
        f.Corrupt(std::string("checksum mismatch in the ") + SectionName(h.type) + " section");
    }
    ProcessImage* p = h.owner == kImageWide ? nullptr : &img.processes[h.owner];
    switch (static_cast<SectionType>(h.type)) {
      case SectionType::kImageInfo:
        if (have_info || payload.size() < sizeof(ImageInfo)) f.Corrupt("bad image info section");
        memcpy(&img.info, payload.data(), sizeof img.info);
        if (img.info.cmdline_len != payload.size() - sizeof(ImageInfo) || img.info.process_count == 0 ||
            img.info.process_count > 65536)
          f.Corrupt("bad image info section");
        img.cmdline.assign(payload.data() + sizeof(ImageInfo), img.info.cmdline_len);
        img.processes.resize(img.info.process_count);
        have_info = true;
        break;
      case SectionType::kProcess:
        if (!p || payload.size() != sizeof(ProcessRecord)) f.Corrupt("bad process section");
        memcpy(&p->process, payload.data(), sizeof p->process);
        break;
      case SectionType::kThreads:
        if (!p) f.Corrupt("bad threads section");
        p->threads = AsArray<ThreadRecord>(f, payload, "threads");
        break;
      case SectionType::kSigactions:
        if (!p) f.Corrupt("bad signal actions section");
        p->sigactions = AsArray<SigactionRecord>(f, payload, "signal actions");
        break;
      case SectionType::kFiles:
        if (!p) f.Corrupt("bad files section");
        p->files = AsPathRecords<FileRecord, FileEntry>(f, payload, "files");
        break;
      case SectionType::kVmas:
        if (!p) f.Corrupt("bad memory map section");
        p->vmas = AsPathRecords<VmaRecord, VmaEntry>(f, payload, "memory map");
        break;
      case SectionType::kRuns:
        if (!p) f.Corrupt("bad page runs section");
        p->runs = AsArray<PageRun>(f, payload, "page runs");
        break;
      case SectionType::kPages:
        if (!p) f.Corrupt("bad page data section");
        p->pages_offset = h.payload_offset;
        p->pages_size = h.payload_size;
        p->pages_hash = h.payload_hash;
        if (verify_pages) {
          if (f.Hash(h.payload_offset, h.payload_size) != h.payload_hash)
            f.Corrupt("checksum mismatch in the page data section");
          p->pages_verified = true;
        }
        break;
      case SectionType::kEnd: {
        EndRecord end{};
        if (payload.size() != sizeof end) f.Corrupt("bad end section");
        memcpy(&end, payload.data(), sizeof end);
        if (end.section_count != img.section_count) f.Corrupt("section count mismatch");
        if (end.file_size != f.size()) {
          if (end.file_size > f.size()) f.Truncated("shorter than recorded");
          f.Corrupt("data after the end marker");
        }
        ended = true;
        break;
      }
      case SectionType::kEvents:
        if (!p || !p->events.empty()) f.Corrupt("bad events section");
        p->events = AsEvents(f, payload);
        break;
      case SectionType::kEventShares:
        if (p) f.Corrupt("bad event shares section");
        shares = AsArray<EventShare>(f, payload, "event shares");
        break;
      case SectionType::kZombies:
        if (p || !img.zombies.empty() || img.header.version < 2) f.Corrupt("bad zombies section");
        img.zombies = AsArray<ZombieRecord>(f, payload, "zombies");
        if (img.zombies.empty()) f.Corrupt("bad zombies section");
        break;
      case SectionType::kSignals:
        if (!p || !p->pending_signals.empty() || img.header.version < 2) f.Corrupt("bad pending signals section");
        p->pending_signals = AsArray<PendingSignalRecord>(f, payload, "pending signals");
        if (p->pending_signals.empty() || p->pending_signals.size() > kMaxPendingSignals)
          f.Corrupt("bad pending signals section");
        break;
      case SectionType::kPosixTimers:
        if (!p || !p->posix_timers.empty() || img.header.version < 2) f.Corrupt("bad POSIX timers section");
        p->posix_timers = AsArray<PosixTimerRecord>(f, payload, "POSIX timers");
        if (p->posix_timers.empty() || p->posix_timers.size() > kMaxPosixTimers) f.Corrupt("bad POSIX timers section");
        break;
      case SectionType::kFileLocks:
        if (!p || !p->file_locks.empty() || img.header.version < 2) f.Corrupt("bad file locks section");
        p->file_locks = AsArray<FileLockRecord>(f, payload, "file locks");
        if (p->file_locks.empty() || p->file_locks.size() > kMaxFileLocks) f.Corrupt("bad file locks section");
        break;
      case SectionType::kClocks:
        if (p || img.clocks || img.header.version < 2 || payload.size() != sizeof(ClockRecord))
          f.Corrupt("bad clocks section");
        img.clocks.emplace();
        memcpy(&*img.clocks, payload.data(), sizeof(ClockRecord));
        if (img.clocks->monotonic_ns < 0 || img.clocks->boottime_ns < 0)
          f.Corrupt("bad clocks section");
        break;
      default:
        f.Corrupt("unknown section type " + std::to_string(h.type));
    }
    if (!have_info) f.Corrupt("the image info section is missing");
    ++img.section_count;
    off = h.payload_offset + h.payload_size;
  }
  for (const EventShare& s : shares) {
    FileEntry* hit = nullptr;
    if (s.process < img.processes.size())
      for (FileEntry& fe : img.processes[s.process].files)
        if (fe.record.fd == s.fd && IsEventKind(fe.record.kind)) hit = &fe;
    if (!hit || s.group == 0) f.Corrupt("event share for an unknown descriptor");
    hit->share_group = s.group;
  }
  for (const ProcessImage& p : img.processes) CheckProcess(f, p);
  CheckZombies(f, img);
  return img;
}

}  // namespace reprise::cr
