#include "cr_test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace crtest {

TempDir::TempDir()
{
    char templ[] = "/tmp/reprise-crtest.XXXXXX";
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
        // If the test (or benchmark) dies, its children must not linger.
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (options.gid && (setgroups(0, nullptr) != 0 || setgid(*options.gid) != 0))
            _exit(126);
        if (options.uid && setuid(*options.uid) != 0)
            _exit(126);
        if (!options.cwd.empty() && chdir(options.cwd.c_str()) != 0)
            _exit(126);
        redirect(0, "", O_RDONLY);
        redirect(1, options.stdout_path, O_WRONLY | O_CREAT | O_TRUNC);
        redirect(2, options.stderr_path, O_WRONLY | O_CREAT | O_TRUNC);
        // A subject run as another user must not inherit the test's own
        // descriptors (ctest's log file, root's): its image would name files
        // that user cannot reopen.
        if (options.uid)
            close_range(3, ~0U, 0);
        // The test binary may run with signals blocked or ignored by ctest.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        execv(args[0], args.data());
        dprintf(2, "exec %s: %s\n", args[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); // also from the parent, to avoid racing the child
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

void Process::kill_tree()
{
    if (pid_ <= 0 || status_)
        return;
    // Stop the root first so it cannot start new children, then kill the
    // descendants (restored processes may live in other process groups).
    kill(pid_, SIGSTOP);
    for (pid_t child : descendants(pid_))
        kill(child, SIGKILL);
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    wait(10s);
}

RunResult run(const std::vector<std::string> &argv, const std::string &cwd, Millis timeout,
              std::optional<uid_t> uid, std::optional<gid_t> gid)
{
    TempDir capture;
    if (uid)
        if (chown(capture.path().c_str(), *uid, gid.value_or(-1)) != 0)
            perror("chown capture dir");
    SpawnOptions options{cwd, capture.file("out"), capture.file("err"), uid, gid};
    Process process = Process::spawn(argv, options);
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

void write_file(const std::string &path, std::string_view content)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
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
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

bool wait_for_text(const std::string &path, std::string_view needle, Millis timeout)
{
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (read_file(path).find(needle) == std::string::npos) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

std::vector<std::string> list_dir(const std::string &path)
{
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto &entry : std::filesystem::directory_iterator(path, ec))
        names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

size_t line_count(std::string_view text)
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

// pid -> ppid for every live process.
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
        // Fields after the command name, which is in parentheses and may hold spaces.
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

pid_t deepest_descendant(pid_t root)
{
    // descendants() is breadth-first, so its last entry is at the deepest level.
    auto all = descendants(root);
    return all.empty() ? -1 : all.back();
}

bool process_alive(pid_t pid)
{
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    size_t close = stat.rfind(')');
    if (close == std::string::npos || close + 2 >= stat.size())
        return false;
    return stat[close + 2] != 'Z' && stat[close + 2] != 'X';
}

const passwd *unprivileged_test_user()
{
    const char *name = "reprise_crtest";
    if (getpwnam(name) == nullptr) {
        std::string cmd = std::string("useradd -M -s /usr/sbin/nologin ") + name + " >/dev/null 2>&1";
        if (system(cmd.c_str()) != 0)
            return nullptr;
    }
    return getpwnam(name);
}

} // namespace crtest
