// cr_info's view of pending signals, POSIX timers and file locks: one line each for the
// text listing, an object each for --json.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "lib/image_reader.h"

namespace reprise::cr {

std::string PendingSignalLine(const PendingSignalRecord& s);
nlohmann::json PendingSignalJson(const PendingSignalRecord& s);
std::string PosixTimerLine(const PosixTimerRecord& t);
std::string FileLockLine(const FileLockRecord& l);
nlohmann::json FileLockJson(const FileLockRecord& l);
nlohmann::json PosixTimerJson(const PosixTimerRecord& t);

}  // namespace reprise::cr
