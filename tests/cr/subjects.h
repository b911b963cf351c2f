// The test subjects with arguments sized for a fast suite (each runs for
// roughly one to two seconds uninterrupted).
#pragma once

#include "cr_engine.h"

namespace crtest::subjects {

inline Subject counting() { return {"counting", {"30", "40"}, 8, {}, false}; }
inline Subject heap_growth() { return {"heap_growth", {"30", "40"}, 10, {}, false}; }
inline Subject fpu_regs() { return {"fpu_regs", {"30", "40"}, 8, {}, false}; }
inline Subject signals_timer() { return {"signals_timer", {"40", "10"}, 12, {}, false}; }
inline Subject file_io()
{
    return {"file_io", {"{dir}", "40", "30"}, 12, {"file_io.out", "file_io.log"}, false};
}
inline Subject big_memory() { return {"big_memory", {"256", "5", "150"}, 2, {}, false}; }
inline Subject env_state() { return {"env_state", {"30", "40"}, 8, {}, false}; }
inline Subject tiny() { return {"tiny", {"1", "5"}, 1, {}, true}; }

} // namespace crtest::subjects
