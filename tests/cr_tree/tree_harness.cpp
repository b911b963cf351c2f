#include "tree_harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace crtree {

TempDir::TempDir()
{
    char templ[] = "/tmp/reprise-crtree.XXXXXX";
    if (mkdtemp(templ) == nullptr)
        throw std::runtime_error(std::string("mkdtemp: ") + strerror(errno));
    path_ = templ;
}

TempDir::~TempDir()
{
    if (getenv("CRTEST_KEEP") != nullptr)
        return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

std::string TempDir::subdir(std::string_view name) const
{
    std::string dir = file(name);
    mkdir(dir.c_str(), 0755);
    return dir;
}

namespace {

void redirect(int target, const std::string &path, int flags)
{
    int fd = open(path.empty() ? "/dev/null" : path.c_str(), flags, 0644);
    if (fd < 0)
        _exit(126);
    dup2(fd, target);
    if (fd != target)
        close(fd);
}

} // namespace

Process Process::spawn(const std::vector<std::string> &argv, const SpawnOptions &options)
{
    std::vector<char *> args;
    for (const auto &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = fork();
    if (pid < 0)
        throw std::runtime_error(std::string("fork: ") + strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0)
            _exit(126);
        redirect(0, "", O_RDONLY);
        redirect(1, options.stdout_path, O_WRONLY | O_CREAT | O_TRUNC);
        redirect(2, options.stderr_path, O_WRONLY | O_CREAT | O_TRUNC);
        // Whatever the test runner left open must not end up in an image.
        syscall(SYS_close_range, 3U, ~0U, 0U);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int sig = 1; sig < NSIG; sig++)
            if (sig != SIGKILL && sig != SIGSTOP)
                signal(sig, SIG_DFL);
        execv(args[0], args.data());
        dprintf(2, "exec %s: %s\n", args[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    return Process(pid);
}

Process::Process(Process &&other) noexcept : pid_(other.pid_), status_(other.status_)
{
    other.pid_ = -1;
}

Process::~Process()
{
    if (pid_ > 0 && !status_)
        kill_tree();
}

std::optional<int> Process::wait(Millis timeout)
{
    if (status_)
        return status_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            status_ = status;
            return status_;
        }
        if (r < 0 && errno != EINTR)
            return std::nullopt;
        if (std::chrono::steady_clock::now() >= deadline)
            return std::nullopt;
        std::this_thread::sleep_for(2ms);
    }
}

bool Process::running() { return !wait(0ms).has_value(); }

void Process::kill_tree()
{
    if (pid_ <= 0 || status_)
        return;
    kill(pid_, SIGSTOP);
    for (pid_t child : descendants(pid_))
        kill(child, SIGKILL);
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    wait(10s);
}

RunResult run(const std::vector<std::string> &argv, const std::string &cwd, Millis timeout)
{
    TempDir capture;
    Process process = Process::spawn(argv, {cwd, capture.file("out"), capture.file("err")});
    RunResult result;
    auto status = process.wait(timeout);
    if (!status) {
        result.timed_out = true;
        process.kill_tree();
        status = process.wait(1s);
    }
    result.status = status.value_or(-1);
    result.out = read_file(capture.file("out"));
    result.err = read_file(capture.file("err"));
    return result;
}

std::string describe_status(int status)
{
    if (status == -1)
        return "no status (still running?)";
    if (WIFEXITED(status))
        return "exit " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return "killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
               strsignal(WTERMSIG(status)) + ")";
    return "wait status " + std::to_string(status);
}

int exit_code(int status) { return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

std::string read_file(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

bool file_exists(const std::string &path)
{
    struct stat st;
    return lstat(path.c_str(), &st) == 0;
}

size_t count_lines(const std::string &path)
{
    std::string text = read_file(path);
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
}

bool wait_for_lines(const std::string &path, size_t lines, Millis timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (count_lines(path) < lines) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(3ms);
    }
    return true;
}

bool wait_for_text(const std::string &path, std::string_view needle, Millis timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (read_file(path).find(needle) == std::string::npos) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(3ms);
    }
    return true;
}

static size_t line_count(std::string_view text)
{
    size_t n = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    return n + (!text.empty() && text.back() != '\n' ? 1 : 0);
}

std::string first_difference(const std::string &expected, const std::string &actual)
{
    std::istringstream e(expected), a(actual);
    std::string le, la;
    for (size_t line = 1;; line++) {
        bool has_e = static_cast<bool>(std::getline(e, le));
        bool has_a = static_cast<bool>(std::getline(a, la));
        if (!has_e && !has_a)
            return expected == actual ? "identical" : "differ only in the final newline";
        if (has_e != has_a || le != la) {
            std::ostringstream msg;
            msg << "first difference at line " << line << " (expected " << line_count(expected)
                << " lines, got " << line_count(actual) << ")\n  expected: "
                << (has_e ? "\"" + le + "\"" : "<end of output>")
                << "\n  actual:   " << (has_a ? "\"" + la + "\"" : "<end of output>");
            return msg.str();
        }
    }
}

namespace {

std::map<pid_t, pid_t> parent_map()
{
    std::map<pid_t, pid_t> parents;
    DIR *proc = opendir("/proc");
    if (proc == nullptr)
        return parents;
    while (dirent *entry = readdir(proc)) {
        char *end = nullptr;
        long pid = strtol(entry->d_name, &end, 10);
        if (*end != '\0' || pid <= 0)
            continue;
        std::string stat = read_file("/proc/" + std::string(entry->d_name) + "/stat");
        size_t close = stat.rfind(')');
        if (close == std::string::npos)
            continue;
        char state = 0;
        long ppid = 0;
        if (sscanf(stat.c_str() + close + 1, " %c %ld", &state, &ppid) == 2 && state != 'Z')
            parents[static_cast<pid_t>(pid)] = static_cast<pid_t>(ppid);
    }
    closedir(proc);
    return parents;
}

pid_t innermost_nspid(const std::string &status_path)
{
    std::istringstream in(read_file(status_path));
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("NSpid:", 0) == 0) {
            std::istringstream fields(line.substr(6));
            pid_t value = -1, last = -1;
            while (fields >> value)
                last = value;
            return last;
        }
    return -1;
}

} // namespace

std::vector<pid_t> descendants(pid_t root)
{
    auto parents = parent_map();
    std::vector<pid_t> found{root};
    for (size_t i = 0; i < found.size(); i++)
        for (const auto &[pid, ppid] : parents)
            if (ppid == found[i])
                found.push_back(pid);
    found.erase(found.begin());
    return found;
}

bool process_alive(pid_t pid)
{
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size())
        return false;
    return stat[close + 2] != 'Z' && stat[close + 2] != 'X';
}

pid_t ns_pid(pid_t pid) { return innermost_nspid("/proc/" + std::to_string(pid) + "/status"); }

std::set<pid_t> ns_tids(pid_t pid)
{
    std::set<pid_t> tids;
    std::string task = "/proc/" + std::to_string(pid) + "/task";
    std::error_code ec;
    for (const auto &entry : std::filesystem::directory_iterator(task, ec))
        tids.insert(innermost_nspid(entry.path().string() + "/status"));
    return tids;
}

// --- engine and subjects -----------------------------------------------------

std::string tool(const std::string &name) { return std::string(CR_TREE_BIN_DIR) + "/" + name; }

std::string mt_program(const std::string &name)
{
    return std::string(CR_TREE_PROGRAMS_DIR) + "/" + name;
}

std::string python3() { return CR_TREE_PYTHON3; }

std::string missing_pieces()
{
    std::string missing;
    for (const char *name : {"cr_run", "cr_checkpoint", "cr_restart", "cr_info"})
        if (!file_exists(tool(name)))
            missing += " " + tool(name);
    for (const char *name :
         {"threads_sync", "forker", "pipe_buffer", "resource_holder", "tree_script.sh",
          "steady_pipeline.sh", "py_state.py"})
        if (!file_exists(mt_program(name)))
            missing += " " + mt_program(name);
    return missing.empty() ? "" : "not built:" + missing;
}

void PrintTo(const Subject &subject, std::ostream *os) { *os << subject.name; }

Subject threads_sync_subject()
{
    // 8 threads, 40 rounds of 50 ms: ~2 s; 9 lines per round after 12 header
    // lines.
    return {"threads_sync", {mt_program("threads_sync"), "8", "40", "50"}, 12 + 9 * 8, 42};
}

Subject forker_subject()
{
    return {"forker", {mt_program("forker"), "4", "48", "20"}, 18, 43};
}

Subject pipe_buffer_subject()
{
    // 768 KiB read 4 KiB per 10 ms: ~2 s; a line every 4 reads.
    return {"pipe_buffer", {mt_program("pipe_buffer"), "768", "4096", "10"}, 14, 44};
}

Subject bash_subject()
{
    // 24 rounds of ~0.2 s.
    return {"bash", {"/bin/bash", mt_program("tree_script.sh"), "24", "0.15"}, 9, 7};
}

Subject steady_bash_subject()
{
    // 120 items 30 ms apart, 96 reach the consumer: ~3.7 s.
    return {"bash_pipeline", {"/bin/bash", mt_program("steady_pipeline.sh"), "120", "0.03"}, 12, 6};
}

Subject python_subject()
{
    return {"python3", {python3(), mt_program("py_state.py"), "50", "0.03"}, 14, 5};
}

std::vector<Subject> all_subjects()
{
    return {threads_sync_subject(), forker_subject(), pipe_buffer_subject(), bash_subject(),
            steady_bash_subject(), python_subject()};
}

std::string without_ids(const std::string &text)
{
    std::istringstream in(text);
    std::string line, kept;
    while (std::getline(in, line))
        if (line.rfind("ids: ", 0) != 0)
            kept += line + "\n";
    return kept;
}

std::vector<std::string> ids_lines(const std::string &text)
{
    std::istringstream in(text);
    std::string line;
    std::vector<std::string> found;
    while (std::getline(in, line))
        if (line.rfind("ids: ", 0) == 0)
            found.push_back(line);
    return found;
}

static std::vector<std::string> cr_run_argv(const Subject &subject)
{
    std::vector<std::string> argv{tool("cr_run")};
    argv.insert(argv.end(), subject.argv.begin(), subject.argv.end());
    return argv;
}

void reference_run(const Subject &subject, const std::string &rundir, Outcome &outcome)
{
    Process process = Process::spawn(cr_run_argv(subject),
                                     {rundir, rundir + "/out.txt", rundir + "/err.txt"});
    auto status = process.wait(kRunTimeout);
    ASSERT_TRUE(status) << subject.name << " did not finish within " << kRunTimeout.count()
                        << " ms (reference run)";
    outcome.status = *status;
    outcome.output = read_file(rundir + "/out.txt");
    ASSERT_EQ(exit_code(outcome.status), subject.exit_code)
        << "reference run of " << subject.name << " ended with " << describe_status(*status)
        << "; stderr: " << read_file(rundir + "/err.txt") << "\noutput:\n"
        << outcome.output;
    ASSERT_GT(count_lines(rundir + "/out.txt"), subject.checkpoint_after_lines + 4)
        << subject.name << " prints too little to be checkpointed mid-run";
    ASSERT_EQ(outcome.output.find("ERROR"), std::string::npos) << outcome.output;
}

void start_subject(const Subject &subject, const std::string &rundir, size_t lines,
                   std::optional<Process> &process)
{
    process.emplace(Process::spawn(cr_run_argv(subject),
                                   {rundir, rundir + "/out.txt", rundir + "/err.txt"}));
    ASSERT_TRUE(wait_for_lines(rundir + "/out.txt", lines, kProgressTimeout))
        << "under cr_run, " << subject.name << " printed only " << count_lines(rundir + "/out.txt")
        << " of " << lines << " lines; stderr: " << read_file(rundir + "/err.txt");
}

RunResult checkpoint(pid_t id, const std::string &image, const std::vector<std::string> &flags)
{
    std::vector<std::string> argv{tool("cr_checkpoint")};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"--file", image, std::to_string(id)});
    return run(argv, "/", kToolTimeout);
}

namespace {
} // namespace


bool image_verifies(const std::string &image, std::string *error)
{
    RunResult info = run({tool("cr_info"), "--json", image}, "/", kToolTimeout);
    if (error != nullptr)
        *error = info.err;
    return exit_code(info.status) == 0;
}

void checkpoint_ok(pid_t id, const std::string &image, const std::vector<std::string> &flags)
{
    bool destructive = std::find(flags.begin(), flags.end(), "--kill") != flags.end() ||
                       std::find(flags.begin(), flags.end(), "--term") != flags.end();
    RunResult r = checkpoint(id, image, flags);
    ASSERT_FALSE(r.timed_out) << "cr_checkpoint hung; stderr: " << r.err;
    ASSERT_EQ(exit_code(r.status), 0)
        << "cr_checkpoint failed (" << describe_status(r.status) << "): " << r.err;
    ASSERT_TRUE(file_exists(image)) << "cr_checkpoint exited 0 but left no " << image;
    std::string error;
    EXPECT_TRUE(image_verifies(image, &error))
        << "cr_checkpoint exited 0 (flags: " << (destructive ? "destructive" : "non-destructive")
        << ") but its image does not verify: " << error;
}


void wait_for_progress(const std::string &rundir, size_t lines, Process &process,
                       const std::string &stderr_path, const std::string &what)
{
    std::string out = rundir + "/out.txt";
    auto deadline = std::chrono::steady_clock::now() + kProgressTimeout;
    while (count_lines(out) < lines) {
        if (!process.running() && count_lines(out) < lines)
            FAIL() << what << " ended (" << describe_status(process.wait(0ms).value_or(-1))
                   << ") after only " << count_lines(out) << " of " << lines
                   << " lines; its stderr: " << read_file(stderr_path);
        if (std::chrono::steady_clock::now() >= deadline)
            FAIL() << what << " printed only " << count_lines(out) << " of " << lines
                   << " lines within " << kProgressTimeout.count()
                   << " ms; its stderr: " << read_file(stderr_path);
        std::this_thread::sleep_for(3ms);
    }
}

void start_restart(const std::string &image, const std::string &logdir, const std::string &tag,
                   const std::vector<std::string> &extra, std::optional<Process> &process)
{
    std::vector<std::string> argv{tool("cr_restart")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.push_back(image);
    process.emplace(Process::spawn(
        argv, {"/", logdir + "/" + tag + ".restart.out", logdir + "/" + tag + ".restart.err"}));
}

void finish(Process &process, const std::string &rundir, Outcome &outcome)
{
    auto status = process.wait(kRunTimeout);
    ASSERT_TRUE(status) << "still running after " << kRunTimeout.count() << " ms; output so far:\n"
                        << read_file(rundir + "/out.txt");
    outcome.status = *status;
    outcome.output = read_file(rundir + "/out.txt");
}

void expect_killed(Process &process, const std::string &what)
{
    auto status = process.wait(10s);
    ASSERT_TRUE(status) << what << " still running 10 s after cr_checkpoint --kill";
    EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL)
        << what << " should end like its program (SIGKILL), got " << describe_status(*status);
}

void expect_same(const Subject &subject, const Outcome &reference, const Outcome &actual,
                 const std::string &what, bool ignore_ids)
{
    EXPECT_EQ(describe_status(actual.status), describe_status(reference.status))
        << subject.name << ", " << what << ": exit status differs from the uninterrupted run";
    EXPECT_EQ(exit_code(actual.status), subject.exit_code) << subject.name << ", " << what;
    std::string want = ignore_ids ? without_ids(reference.output) : reference.output;
    std::string got = ignore_ids ? without_ids(actual.output) : actual.output;
    EXPECT_TRUE(want == got) << subject.name << ", " << what
                             << ": output differs from the uninterrupted run: "
                             << first_difference(want, got);
}

void repeated_checkpoints(const Subject &subject, int count, bool after_new_line)
{
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(reference_run(subject, dir.subdir("reference"), reference));
    size_t total = count_lines(dir.file("reference/out.txt"));

    std::string rundir = dir.subdir("run");
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_subject(subject, rundir, subject.checkpoint_after_lines, app));
    size_t lines = count_lines(rundir + "/out.txt");
    std::string failures;
    int failed = 0;
    for (int i = 1; i <= count; i++) {
        if (after_new_line) {
            ASSERT_TRUE(wait_for_lines(rundir + "/out.txt", lines + 1, kProgressTimeout))
                << "no progress before checkpoint " << i;
        }
        lines = count_lines(rundir + "/out.txt");
        ASSERT_LT(lines, total - 2) << "the program ended before checkpoint " << i
                                    << "; make it run longer";
        std::string image = dir.file("image." + std::to_string(i));
        auto t0 = std::chrono::steady_clock::now();
        RunResult r = checkpoint(app->pid(), image, {});
        auto ms = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t0).count();
        std::string error;
        if (exit_code(r.status) != 0 || !file_exists(image)) {
            failed++;
            failures += "checkpoint " + std::to_string(i) + " (" + std::to_string(ms) +
                        " ms, " + describe_status(r.status) + "): " + r.err;
        } else if (!image_verifies(image, &error)) {
            failed++;
            failures += "checkpoint " + std::to_string(i) + " exited 0 but its image does not verify: " + error;
        }
        ASSERT_TRUE(process_alive(app->pid())) << "cr_run gone after checkpoint " << i;
        if (i > 1)
            unlink(dir.file("image." + std::to_string(i - 1)).c_str());
    }
    EXPECT_EQ(failed, 0) << failed << " of " << count << " checkpoints failed:\n" << failures;
    Outcome outcome;
    ASSERT_NO_FATAL_FAILURE(finish(*app, rundir, outcome));
    expect_same(subject, reference, outcome,
                "after " + std::to_string(count) + " checkpoints without --kill");
    if (failed)
        return;

    // The last image still restarts to the same end: restarting truncates
    // out.txt back to its checkpoint-time size and the rest is written again.
    // The bash subjects' stop flag did not exist at checkpoint time either.
    unlink((rundir + "/stop.flag").c_str());
    std::optional<Process> restarted;
    start_restart(dir.file("image." + std::to_string(count)), dir.path(), "last", {}, restarted);
    Outcome again;
    ASSERT_NO_FATAL_FAILURE(finish(*restarted, rundir, again));
    expect_same(subject, reference, again, "restart of the last image");
}

void kill_restart_cycles(const Subject &subject, int count)
{
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(reference_run(subject, dir.subdir("reference"), reference));
    size_t total = count_lines(dir.file("reference/out.txt"));

    std::string rundir = dir.subdir("run");
    std::optional<Process> current;
    ASSERT_NO_FATAL_FAILURE(start_subject(subject, rundir, subject.checkpoint_after_lines, current));
    std::string previous;
    for (int i = 1; i <= count; i++) {
        std::string tag = "cycle" + std::to_string(i);
        std::string image = dir.file("image." + std::to_string(i));
        RunResult r = checkpoint(current->pid(), image, {"--kill"});
        ASSERT_EQ(exit_code(r.status), 0) << "checkpoint --kill " << i << ": " << r.err;
        ASSERT_NO_FATAL_FAILURE(expect_killed(*current, i == 1 ? "cr_run" : "cr_restart"));
        size_t lines = count_lines(rundir + "/out.txt");
        ASSERT_LT(lines, total - 2) << "the program ended before cycle " << i
                                    << "; make it run longer";
        std::string error;
        ASSERT_TRUE(image_verifies(image, &error)) << "image " << i << " does not verify: " << error;
        current.reset();
        start_restart(image, dir.path(), tag, {}, current);
        ASSERT_NO_FATAL_FAILURE(wait_for_progress(rundir, lines + 1, *current,
                                                  dir.file(tag + ".restart.err"),
                                                  "restart " + std::to_string(i)));
        if (!previous.empty()) unlink(previous.c_str());
        previous = image;
    }
    Outcome outcome;
    ASSERT_NO_FATAL_FAILURE(finish(*current, rundir, outcome));
    expect_same(subject, reference, outcome,
                "after " + std::to_string(count) + " checkpoint --kill / restart cycles");
}

} // namespace crtree
