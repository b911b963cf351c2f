#include "lib/event_printer.h"

#include <sys/timerfd.h>
#include <time.h>

#include <cstdio>

#include "lib/print_format.h"

namespace reprise::cr {
namespace {

const char* ClockName(uint64_t c) {
  switch (c) {
    case CLOCK_REALTIME: return "realtime";
    case CLOCK_MONOTONIC: return "monotonic";
    case CLOCK_BOOTTIME: return "boottime";
    case CLOCK_REALTIME_ALARM: return "realtime_alarm";
    case CLOCK_BOOTTIME_ALARM: return "boottime_alarm";
  }
  return "unknown";
}

}  // namespace

const char* EventKindName(uint32_t kind) {
  switch (static_cast<FileKind>(kind)) {
    case FileKind::kEventfd: return "eventfd";
    case FileKind::kTimerfd: return "timerfd";
    case FileKind::kSignalfd: return "signalfd";
    case FileKind::kEpoll: return "epoll";
    case FileKind::kInotify: return "inotify";
    case FileKind::kPidfd: return "pidfd";
    default: return nullptr;
  }
}

std::string EventSummary(const EventEntry& e, const FileEntry& f) {
  const EventRecord& r = e.record;
  std::string s;
  switch (static_cast<FileKind>(r.kind)) {
    case FileKind::kEventfd:
      s = "count " + std::to_string(r.value) + ((r.flags & kEventfdSemaphore) ? " semaphore" : "");
      break;
    case FileKind::kTimerfd:
      s = std::string("clock ") + ClockName(r.value) + ", remaining " + SecondsText(r.remaining_ns) + ", interval " +
          SecondsText(r.interval_ns) + ", unread " + std::to_string(r.ticks) +
          ((r.flags & TFD_TIMER_ABSTIME) ? ", absolute" : "");
      break;
    case FileKind::kSignalfd:
      s = "mask " + HexText(r.value);
      break;
    case FileKind::kEpoll:
      s = std::to_string(e.epoll_items.size()) + " registrations:";
      for (const EpollItemRecord& i : e.epoll_items)
        s += " fd " + std::to_string(i.tfd) + " events " + HexText(i.events) + " data " + HexText(i.data) + ";";
      break;
    case FileKind::kInotify:
      s = std::to_string(e.watches.size()) + " watches:";
      for (const auto& [w, path] : e.watches) s += " wd " + std::to_string(w.wd) + " " + path + " mask " + HexText(w.mask) + ";";
      break;
    case FileKind::kPidfd:
      s = "of pid " + std::to_string(r.value);
      break;
    default:
      break;
  }
  if (f.share_group) s += " (shared, group " + std::to_string(f.share_group) + ")";
  return s;
}

nlohmann::json EventToJson(const EventEntry& e, const FileEntry& f) {
  using nlohmann::json;
  const EventRecord& r = e.record;
  json j;
  switch (static_cast<FileKind>(r.kind)) {
    case FileKind::kEventfd:
      j = {{"count", r.value}, {"semaphore", (r.flags & kEventfdSemaphore) != 0}};
      break;
    case FileKind::kTimerfd:
      j = {{"clock", ClockName(r.value)}, {"remaining_ns", r.remaining_ns}, {"interval_ns", r.interval_ns},
           {"unread_expirations", r.ticks}, {"absolute", (r.flags & TFD_TIMER_ABSTIME) != 0},
           {"deadline_ns", r.deadline_ns}};
      break;
    case FileKind::kSignalfd:
      j = {{"sigmask", HexText(r.value)}};
      break;
    case FileKind::kEpoll: {
      json items = json::array();
      for (const EpollItemRecord& i : e.epoll_items)
        items.push_back({{"fd", i.tfd}, {"events", HexText(i.events)}, {"data", HexText(i.data)}});
      j = {{"registrations", items}};
      break;
    }
    case FileKind::kInotify: {
      json watches = json::array();
      for (const auto& [w, path] : e.watches) watches.push_back({{"wd", w.wd}, {"path", path}, {"mask", HexText(w.mask)}});
      j = {{"watches", watches}};
      break;
    }
    case FileKind::kPidfd:
      j = {{"pid", r.value}};
      break;
    default:
      break;
  }
  j["share_group"] = f.share_group;
  return j;
}

}  // namespace reprise::cr
