// cr_info's view of event objects (eventfd, timerfd, signalfd, epoll,
// inotify, pidfd): one line for the text listing, an object for --json.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "lib/image_reader.h"

namespace reprise::cr {

const char* EventKindName(uint32_t kind);  // null if not an event kind
std::string EventSummary(const EventEntry& e, const FileEntry& f);
nlohmann::json EventToJson(const EventEntry& e, const FileEntry& f);

}  // namespace reprise::cr
