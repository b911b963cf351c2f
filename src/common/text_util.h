// Small string helpers shared by daemons and clients.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace reprise {

std::vector<std::string> split(const std::string& s, char sep);
std::string trim(const std::string& s);
std::string join(const std::vector<std::string>& parts, const std::string& sep);
bool starts_with(const std::string& s, const std::string& prefix);
bool parse_bool(const std::string& s, bool& value);  // true/false/t/f/1/0/yes/no, any case
bool parse_int(const std::string& s, long& value);
std::string format_ctime(long epoch_seconds);
// printf into a string (up to 2047 bytes): the fixed-width tables of qstat.
std::string printf_line(const char* fmt, ...) __attribute__((format(printf, 1, 2)));  // "Thu Nov 26 21:00:30 2026" like TORQUE
long now_seconds();

// Writes a file atomically: temp file in the same directory, fsync (unless !durable), rename.
// Without fsync the file is still never seen half-written after a process crash; only a
// machine crash can lose it.
bool write_file_atomic(const std::string& path, const std::string& data, int mode,
                       std::string& error, bool durable = true);
bool read_file(const std::string& path, std::string& data);

}  // namespace reprise
