// qsub -a: TORQUE's [[[[CC]YY]MM]DD]hhmm[.SS] date, in local time, turned into seconds since
// the epoch. As TORQUE's cvtdate: a time of day already past today means tomorrow; a day
// already past this month means next month; a month already past this year means next year.
#pragma once
#include <ctime>
#include <string>

namespace reprise::client {

// False on anything that is not such a date, or names an impossible one (month 13, 25:00).
bool parse_execution_time(const std::string& text, std::time_t now, std::time_t& when);

}  // namespace reprise::client
