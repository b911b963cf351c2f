// Server and queue attributes of TORQUE 4-6 that a site's `qmgr -c 'print server'` dump may
// hold and that Reprise accepts but does not act on (issue 14): qmgr stores them, so the
// dump loads unchanged, and `qmgr -c 'list server'` marks them "(no effect in Reprise)".
// The attributes Reprise acts on are the server's own table (src/server/manage.cpp).
#pragma once
#include <string>

namespace reprise {

enum class TorqueValue { kBool, kInt, kText, kList };

// True if `name` is such an attribute of `objtype` ("server" or "queue"); sets its type.
bool torque_attribute_without_effect(const std::string& objtype, const std::string& name, TorqueValue& kind);

}  // namespace reprise
