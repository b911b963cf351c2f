// Helpers for the multi-thread / process-tree checkpoint/restart tests: temp
// directories, spawning tools with redirected stdio (and no inherited fds),
// the subjects in tests/programs/mt, and the "run under cr_run, checkpoint,
// restart, compare" steps. Same style as tests/cr/cr_test_util.h, but a
// separate copy: this suite depends on nothing another suite may change.
// Helpers that assert are void so gtest's ASSERT_* work inside them; callers
// wrap them in ASSERT_NO_FATAL_FAILURE.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <ostream>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace crtree {

using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

constexpr Millis kRunTimeout = 90s;      // one program run or restart, start to end
constexpr Millis kProgressTimeout = 30s; // waiting for a subject to print more
constexpr Millis kToolTimeout = 60s;     // cr_checkpoint, cr_info

// A fresh directory under /tmp, removed on destruction unless CRTEST_KEEP is set.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::string &path() const { return path_; }
    std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
    // Creates (if needed) and returns the subdirectory `name`.
    std::string subdir(std::string_view name) const;

private:
    std::string path_;
};

struct SpawnOptions {
    std::string cwd;         // empty: inherit
    std::string stdout_path; // empty: /dev/null
    std::string stderr_path; // empty: /dev/null
};

// A child in its own process group, stdin from /dev/null, every fd above 2
// closed. The destructor kills it and all its descendants if still running.
class Process {
public:
    static Process spawn(const std::vector<std::string> &argv, const SpawnOptions &options);
    Process(Process &&other) noexcept;
    Process &operator=(Process &&other) = delete;
    ~Process();

    pid_t pid() const { return pid_; }
    std::optional<int> wait(Millis timeout); // raw wait status
    bool running();                          // not exited (reaps if it has)
    void kill_tree();

private:
    explicit Process(pid_t pid) : pid_(pid) {}
    pid_t pid_ = -1;
    std::optional<int> status_;
};

struct RunResult {
    int status = -1;
    bool timed_out = false;
    std::string out;
    std::string err;
};
RunResult run(const std::vector<std::string> &argv, const std::string &cwd, Millis timeout);

std::string describe_status(int status);
int exit_code(int status); // -1 unless exited normally
std::string read_file(const std::string &path);
bool file_exists(const std::string &path);
size_t count_lines(const std::string &path);
bool wait_for_lines(const std::string &path, size_t lines, Millis timeout);
bool wait_for_text(const std::string &path, std::string_view needle, Millis timeout);
std::string first_difference(const std::string &expected, const std::string &actual);

// Live descendants of `root` (any depth, breadth first), from /proc.
std::vector<pid_t> descendants(pid_t root);
bool process_alive(pid_t pid);
// The innermost pid of `pid` (its pid in its own pid namespace), from NSpid.
pid_t ns_pid(pid_t pid);
// Innermost tids of every thread of `pid`.
std::set<pid_t> ns_tids(pid_t pid);

// --- engine and subjects ---------------------------------------------------

std::string tool(const std::string &name);       // cr_run, cr_checkpoint, ...
std::string mt_program(const std::string &name); // a subject in bin/programs/mt
std::string python3();                           // the interpreter for py_state.py
// Empty when every tool and subject exists, else what is missing.
std::string missing_pieces();

struct Subject {
    std::string name;              // for messages and test names
    std::vector<std::string> argv; // the command cr_run runs
    size_t checkpoint_after_lines; // progress before the (first) checkpoint
    int exit_code;                 // what the subject exits with when all is well
};
// Test names and messages show the subject's name (not its bytes).
void PrintTo(const Subject &subject, std::ostream *os);

Subject threads_sync_subject();
Subject forker_subject();
Subject pipe_buffer_subject();
Subject bash_subject();        // tree_script.sh: forks all the time
Subject steady_bash_subject(); // steady_pipeline.sh: a tree that stays the same
Subject python_subject();
std::vector<Subject> all_subjects();

// Output without the lines that print pids or tids ("ids: ...").
std::string without_ids(const std::string &text);
// The "ids: ..." lines only.
std::vector<std::string> ids_lines(const std::string &text);

struct Outcome {
    int status = -1; // raw wait status of cr_run / cr_restart
    std::string output;
};

// cr_run SUBJECT to completion in `rundir` (stdout rundir/out.txt). The
// reference for every comparison: running under cr_run gives the same pids as
// a checkpointed run (a fresh pid namespace each time).
void reference_run(const Subject &subject, const std::string &rundir, Outcome &outcome);
// Starts cr_run SUBJECT in `rundir` and waits for `lines` lines of output.
void start_subject(const Subject &subject, const std::string &rundir, size_t lines,
                   std::optional<Process> &process);
// cr_checkpoint FLAGS... --file IMAGE ID; asserts exit 0 and an image that
// cr_info --json reads and verifies (checksums included).
void checkpoint_ok(pid_t id, const std::string &image, const std::vector<std::string> &flags);
bool image_verifies(const std::string &image, std::string *error = nullptr);
// cr_checkpoint FLAGS... --file IMAGE ID, whatever the outcome.
RunResult checkpoint(pid_t id, const std::string &image, const std::vector<std::string> &flags);
// Starts `cr_restart [EXTRA...] IMAGE` from / with its own stdio in
// `logdir`, in the background.
void start_restart(const std::string &image, const std::string &logdir, const std::string &tag,
                   const std::vector<std::string> &extra, std::optional<Process> &process);
// Waits until rundir/out.txt holds `lines` lines; fails early (with its
// stderr) if `process` ends first.
void wait_for_progress(const std::string &rundir, size_t lines, Process &process,
                       const std::string &stderr_path, const std::string &what);
// Waits for a cr_run/cr_restart process to finish; fills the outcome from
// rundir/out.txt.
void finish(Process &process, const std::string &rundir, Outcome &outcome);
// After cr_checkpoint --kill: the launcher must end, killed like its program.
void expect_killed(Process &process, const std::string &what);
// Status and bytes of the output equal the reference's (optionally ignoring
// "ids:" lines); the status is the subject's success code.
void expect_same(const Subject &subject, const Outcome &reference, const Outcome &actual,
                 const std::string &what, bool ignore_ids = false);

// --- stress procedures (tree_stress_test.cpp, tree_race_test.cpp) ------------

// 20 checkpoints (no --kill) of one running cr_run SUBJECT, back to back or
// each right after a new output line; then the output must equal the
// reference, and the last image must restart to the same end.
void repeated_checkpoints(const Subject &subject, int count, bool after_new_line);
// `count` cycles of checkpoint --kill and restart, each restart from the
// previous image, each after a new output line; the final output must equal
// the reference.
void kill_restart_cycles(const Subject &subject, int count);

} // namespace crtree
