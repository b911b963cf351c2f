#include "client/exec_time.h"

namespace reprise::client {

namespace {

int two(const std::string& s, size_t at) { return (s[at] - '0') * 10 + (s[at + 1] - '0'); }

}  // namespace

bool parse_execution_time(const std::string& text, std::time_t now, std::time_t& when) {
  std::string digits = text;
  int seconds = 0;
  if (auto dot = text.find('.'); dot != std::string::npos) {
    std::string ss = text.substr(dot + 1);
    if (ss.size() != 2 || ss.find_first_not_of("0123456789") != std::string::npos) return false;
    seconds = two(ss, 0);
    digits = text.substr(0, dot);
  }
  size_t n = digits.size();
  if (n < 4 || n > 12 || n % 2 != 0 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  if (seconds > 59) return false;
  std::tm base{};
  localtime_r(&now, &base);
  std::tm t = base;
  t.tm_isdst = -1;
  t.tm_sec = seconds;
  t.tm_min = two(digits, n - 2);
  t.tm_hour = two(digits, n - 4);
  bool has_day = n >= 6, has_month = n >= 8, has_year = n >= 10;
  if (has_day) t.tm_mday = two(digits, n - 6);
  if (has_month) t.tm_mon = two(digits, n - 8) - 1;
  if (has_year) {
    int year = two(digits, n - 10);
    int century = n == 12 ? two(digits, 0) : (year < 69 ? 20 : 19);  // POSIX touch's rule for YY
    t.tm_year = century * 100 + year - 1900;
  }
  if (t.tm_min > 59 || t.tm_hour > 23 || t.tm_mday < 1 || t.tm_mday > 31 || t.tm_mon < 0 || t.tm_mon > 11)
    return false;
  std::tm check = t;
  std::time_t result = std::mktime(&check);
  if (result == -1 || check.tm_mday != t.tm_mday || check.tm_mon != t.tm_mon) return false;  // 31 April
  if (result < now) {
    // The next such time: the smallest unit the user left out moves forward.
    if (!has_day) t.tm_mday += 1;
    else if (!has_month) t.tm_mon += 1;
    else if (!has_year) t.tm_year += 1;
    else {
      when = result;  // a full date in the past: TORQUE runs the job at once
      return true;
    }
    t.tm_isdst = -1;
    result = std::mktime(&t);
    if (result == -1) return false;
  }
  when = result;
  return true;
}

}  // namespace reprise::client
