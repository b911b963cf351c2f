// The $directives of a TORQUE mom config (mom_priv/config) and what Reprise does with each.
// A TORQUE site brings its config unchanged: every directive TORQUE 4-6 documents is accepted;
// the ones Reprise does not act on are logged as such, and an unknown one is a warning, never
// a reason to refuse to start (issue 14).
#pragma once
#include <string>

namespace reprise {

enum class DirectiveUse {
  kUnknown,    // not a TORQUE (or Reprise) directive: warned about and ignored
  kEffective,  // Reprise acts on it
  kNoEffect,   // TORQUE has it; Reprise accepts it and does nothing with it
};

DirectiveUse mom_directive_use(const std::string& name);

}  // namespace reprise
