// Each test subject survives checkpoint --kill + restart: the restarted run's
// output (and files, exit status) equals an uninterrupted run's, byte for byte.
// The Determinism tests check the subjects themselves (no engine needed): two
// uninterrupted runs must agree, otherwise the comparisons above mean nothing.
#include <gtest/gtest.h>

#include "subjects.h"

namespace crtest {
namespace {

TEST(SubjectDeterminism, Counting) { expect_deterministic(subjects::counting()); }
TEST(SubjectDeterminism, HeapGrowth) { expect_deterministic(subjects::heap_growth()); }
TEST(SubjectDeterminism, FpuRegs) { expect_deterministic(subjects::fpu_regs()); }
TEST(SubjectDeterminism, SignalsTimer) { expect_deterministic(subjects::signals_timer()); }
TEST(SubjectDeterminism, FileIo) { expect_deterministic(subjects::file_io()); }
TEST(SubjectDeterminism, BigMemory) { expect_deterministic(subjects::big_memory()); }
TEST(SubjectDeterminism, EnvState) { expect_deterministic(subjects::env_state()); }
TEST(SubjectDeterminism, Tiny) { expect_deterministic(subjects::tiny()); }

TEST(CheckpointRestart, Counting)
{
    checkpoint_kill_restart_matches_reference(subjects::counting());
}
TEST(CheckpointRestart, HeapGrowth)
{
    checkpoint_kill_restart_matches_reference(subjects::heap_growth());
}
TEST(CheckpointRestart, FpuRegs) { checkpoint_kill_restart_matches_reference(subjects::fpu_regs()); }
TEST(CheckpointRestart, SignalsTimer)
{
    checkpoint_kill_restart_matches_reference(subjects::signals_timer());
}
TEST(CheckpointRestart, FileIo) { checkpoint_kill_restart_matches_reference(subjects::file_io()); }
TEST(CheckpointRestart, BigMemory256MiB)
{
    checkpoint_kill_restart_matches_reference(subjects::big_memory());
}
TEST(CheckpointRestart, EnvState)
{
    checkpoint_kill_restart_matches_reference(subjects::env_state());
}
TEST(CheckpointRestart, Tiny) { checkpoint_kill_restart_matches_reference(subjects::tiny()); }

// The other two variants every engine fidelity test runs (all_variants_match_reference):
// a node lost after a live checkpoint, and a restarted tree checkpointed again.
TEST(CheckpointVariants, FileIoLiveCheckpointThenSigkill)
{
    live_checkpoint_sigkill_restart_matches_reference(subjects::file_io());
}
TEST(CheckpointVariants, FileIoCheckpointRestartTwice)
{
    checkpoint_restart_twice_matches_reference(subjects::file_io());
}
TEST(CheckpointVariants, SignalsTimerLiveCheckpointThenSigkill)
{
    live_checkpoint_sigkill_restart_matches_reference(subjects::signals_timer());
}

} // namespace
} // namespace crtest
