// Generic helpers for tests that drive real processes: temp dirs, spawning
// with redirected stdio, waiting with timeouts, reading files, /proc walks.
// Nothing here knows about the checkpoint engine; see cr_engine.h for that.
#pragma once

#include <pwd.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crtest {

using namespace std::chrono_literals;
using Millis = std::chrono::milliseconds;

// A fresh directory under /tmp, removed (recursively) on destruction unless
// CRTEST_KEEP is set in the environment.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::string &path() const { return path_; }
    std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }

private:
    std::string path_;
};

struct SpawnOptions {
    std::string cwd;          // empty: inherit
    std::string stdout_path;  // empty: /dev/null
    std::string stderr_path;  // empty: /dev/null
    std::optional<uid_t> uid; // run as this user (root only)
    std::optional<gid_t> gid;
};

// A child process in its own process group. The destructor kills it and all
// its descendants if they are still around, so a failing test leaks nothing.
class Process {
public:
    static Process spawn(const std::vector<std::string> &argv, const SpawnOptions &options);
    Process(Process &&other) noexcept;
    Process &operator=(Process &&other) = delete;
    ~Process();

    pid_t pid() const { return pid_; }
    // Raw wait status, or nullopt if still running after `timeout`.
    std::optional<int> wait(Millis timeout);
    bool exited() const { return status_.has_value(); }
    // SIGKILL the process and every descendant, then reap it.
    void kill_tree();

private:
    explicit Process(pid_t pid) : pid_(pid) {}
    pid_t pid_ = -1;
    std::optional<int> status_;
};

struct RunResult {
    int status = -1;        // raw wait status
    bool timed_out = false; // killed after the timeout
    std::string out;
    std::string err;
};

// Runs a command to completion (killing it after `timeout`), capturing its
// stdout and stderr.
RunResult run(const std::vector<std::string> &argv, const std::string &cwd, Millis timeout,
              std::optional<uid_t> uid = {}, std::optional<gid_t> gid = {});

// The unprivileged user the root-only tests switch to ("reprise_crtest"),
// created with useradd if needed; nullptr if it cannot be created.
const passwd *unprivileged_test_user();

// "exit 7", "killed by signal 9 (Killed)", ...
std::string describe_status(int status);
// Exit code if the process exited normally, else -1.
int exit_code(int status);

std::string read_file(const std::string &path);
void write_file(const std::string &path, std::string_view content);
bool file_exists(const std::string &path);
size_t count_lines(const std::string &path);
// Polls until `path` holds at least `lines` complete lines.
bool wait_for_lines(const std::string &path, size_t lines, Millis timeout);
// Polls until `path` contains `needle`.
bool wait_for_text(const std::string &path, std::string_view needle, Millis timeout);
// Names in a directory, sorted, without "." and "..".
std::vector<std::string> list_dir(const std::string &path);

// Human-readable description of where two texts first differ.
std::string first_difference(const std::string &expected, const std::string &actual);
// Number of lines in a string (complete or not).
size_t line_count(std::string_view text);

// All live descendants of `root` (any depth), found through /proc/*/stat.
std::vector<pid_t> descendants(pid_t root);
// The deepest descendant of `root`, i.e. the actual program under a wrapper
// such as cr_run or cr_restart; -1 if `root` has no children.
pid_t deepest_descendant(pid_t root);
bool process_alive(pid_t pid); // exists and is not a zombie

} // namespace crtest
