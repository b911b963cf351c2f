// Engine-specific test helpers: where the tools and subjects are, how a test
// subject is described, and the standard "checkpoint --kill, restart, compare
// with an uninterrupted run" procedure. Helpers that assert are void so that
// gtest's ASSERT_* can be used inside them; callers check HasFatalFailure().
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cr_test_util.h"

namespace crtest {

std::string tool(const std::string &name);    // cr_run, cr_checkpoint, ...
std::string program(const std::string &name); // a test subject
// Empty when all four engine tools exist, else a message naming what is missing.
std::string missing_tools();

struct Subject {
    std::string program;
    std::vector<std::string> args;           // "{dir}" is replaced by the test directory
    size_t checkpoint_after_lines = 5;       // progress to wait for before checkpointing
    std::vector<std::string> compared_files; // files the program writes in the test directory
    bool drop_resumed_lines = false;         // for tiny/big_memory benchmark-mode output
};

std::vector<std::string> command_line(const Subject &subject, const TempDir &dir);

struct Outcome {
    int status = -1; // raw wait status
    std::string output;
    std::map<std::string, std::string> files;
};

// Output as compared: optionally without time-dependent "resumed at" lines.
std::string comparable_output(const Subject &subject, const std::string &text);

// Runs the subject directly (no engine) in `dir`, stdout to dir/out_name.
void run_uninterrupted(const Subject &subject, const TempDir &dir, const std::string &out_name,
                       Outcome &outcome);
// Starts `cr_run <subject>` in `dir` with stdout to dir/out_name, stderr to
// dir/out_name.err, and waits until the subject printed `lines` lines.
void start_under_cr_run(const Subject &subject, const TempDir &dir, const std::string &out_name,
                        size_t lines, std::optional<Process> &process);
// cr_checkpoint [flags...] --file image pid; asserts success.
void checkpoint_ok(pid_t pid, const std::string &image, const std::vector<std::string> &flags,
                   const std::string &cwd);
// Runs `cr_restart image` from / (so the engine must restore the cwd) to
// completion and fills `outcome` from the subject's output file.
void restart_to_completion(const Subject &subject, const TempDir &dir, const std::string &image,
                           const std::string &out_name, Outcome &outcome);
// Asserts that `actual` equals `reference` (status, output, compared files).
void expect_same_outcome(const Subject &subject, const Outcome &reference, const Outcome &actual,
                         const std::string &what);
// While alive, subjects started by this process append a line to
// dir/starts.log when their main() begins (see note_start() in
// tests/programs/prog_util.h). A restart must not add a line: that would
// mean cr_restart re-ran the command instead of restoring the process.
class StartLog {
public:
    explicit StartLog(const TempDir &dir);
    ~StartLog();
    StartLog(const StartLog &) = delete;
    StartLog &operator=(const StartLog &) = delete;
    size_t starts() const { return count_lines(path_); }

private:
    std::string path_;
};

// Two uninterrupted runs agree (exit 0, same output and files); otherwise
// comparing a restarted run with one means nothing.
void expect_deterministic(const Subject &subject);
// Full standard procedure: reference run; run under cr_run; wait for
// progress; cr_checkpoint --kill; cr_restart; compare with the reference.
void checkpoint_kill_restart_matches_reference(const Subject &subject);
// Live checkpoint (the program runs on), SIGKILL of the whole tree a moment
// later (a node failing after a periodic checkpoint), restart, compare.
void live_checkpoint_sigkill_restart_matches_reference(const Subject &subject);
// checkpoint --kill, restart, more progress, checkpoint --kill of the
// restarted tree, restart again, compare.
void checkpoint_restart_twice_matches_reference(const Subject &subject);
// The three variants above, one after the other (issue 11's standard).
void all_variants_match_reference(const Subject &subject);

} // namespace crtest
