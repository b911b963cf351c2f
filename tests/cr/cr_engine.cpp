#include "cr_engine.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <sstream>

namespace crtest {

namespace {
constexpr Millis kRunTimeout = 60s;      // any single program run or restart
constexpr Millis kProgressTimeout = 30s; // waiting for a subject to print
} // namespace

std::string tool(const std::string &name) { return std::string(CR_BIN_DIR) + "/" + name; }

std::string program(const std::string &name)
{
    return std::string(CR_PROGRAMS_DIR) + "/" + name;
}

std::string missing_tools()
{
    std::string missing;
    for (const char *name : {"cr_run", "cr_checkpoint", "cr_restart", "cr_info"})
        if (!file_exists(tool(name)))
            missing += (missing.empty() ? "" : ", ") + tool(name);
    return missing.empty() ? "" : "engine tools not built: " + missing;
}

std::vector<std::string> command_line(const Subject &subject, const TempDir &dir)
{
    std::vector<std::string> argv{program(subject.program)};
    for (const auto &arg : subject.args)
        argv.push_back(arg == "{dir}" ? dir.path() : arg);
    return argv;
}

std::string comparable_output(const Subject &subject, const std::string &text)
{
    if (!subject.drop_resumed_lines)
        return text;
    std::istringstream in(text);
    std::string line, kept;
    while (std::getline(in, line))
        if (line.rfind("resumed at ", 0) != 0 && line.rfind("verified at ", 0) != 0)
            kept += line + "\n";
    return kept;
}

StartLog::StartLog(const TempDir &dir) : path_(dir.file("starts.log"))
{
    setenv("CRTEST_START_LOG", path_.c_str(), 1);
}

StartLog::~StartLog() { unsetenv("CRTEST_START_LOG"); }

static void collect_files(const Subject &subject, const TempDir &dir, Outcome &outcome)
{
    for (const auto &name : subject.compared_files)
        outcome.files[name] = read_file(dir.file(name));
}

void run_uninterrupted(const Subject &subject, const TempDir &dir, const std::string &out_name,
                       Outcome &outcome)
{
    SpawnOptions options{dir.path(), dir.file(out_name), dir.file(out_name + ".err"), {}, {}};
    Process process = Process::spawn(command_line(subject, dir), options);
    auto status = process.wait(kRunTimeout);
    ASSERT_TRUE(status) << subject.program << " did not finish within "
                        << kRunTimeout.count() << " ms (uninterrupted run)";
    outcome.status = *status;
    outcome.output = read_file(dir.file(out_name));
    collect_files(subject, dir, outcome);
    ASSERT_GT(line_count(outcome.output), subject.checkpoint_after_lines)
        << "uninterrupted " << subject.program << " printed too little to checkpoint mid-run:\n"
        << outcome.output << read_file(dir.file(out_name + ".err"));
}

void start_under_cr_run(const Subject &subject, const TempDir &dir, const std::string &out_name,
                        size_t lines, std::optional<Process> &process)
{
    std::string missing = missing_tools();
    ASSERT_TRUE(missing.empty()) << missing;
    std::vector<std::string> argv{tool("cr_run")};
    for (auto &arg : command_line(subject, dir))
        argv.push_back(arg);
    SpawnOptions options{dir.path(), dir.file(out_name), dir.file(out_name + ".err"), {}, {}};
    process.emplace(Process::spawn(argv, options));
    ASSERT_TRUE(wait_for_lines(dir.file(out_name), lines, kProgressTimeout))
        << "under cr_run, " << subject.program << " printed only "
        << count_lines(dir.file(out_name)) << " of " << lines << " lines within "
        << kProgressTimeout.count() << " ms; its stderr: " << read_file(dir.file(out_name + ".err"));
}

void checkpoint_ok(pid_t pid, const std::string &image, const std::vector<std::string> &flags,
                   const std::string &cwd)
{
    std::vector<std::string> argv{tool("cr_checkpoint")};
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), {"--file", image, std::to_string(pid)});
    RunResult r = run(argv, cwd, kRunTimeout);
    ASSERT_FALSE(r.timed_out) << "cr_checkpoint hung; stderr: " << r.err;
    ASSERT_EQ(exit_code(r.status), 0)
        << "cr_checkpoint failed (" << describe_status(r.status) << "): " << r.err;
    struct stat st;
    ASSERT_EQ(stat(image.c_str(), &st), 0) << "cr_checkpoint exited 0 but left no " << image;
}

void restart_to_completion(const Subject &subject, const TempDir &dir, const std::string &image,
                           const std::string &out_name, Outcome &outcome)
{
    RunResult r = run({tool("cr_restart"), image}, "/", kRunTimeout);
    ASSERT_FALSE(r.timed_out) << "cr_restart of " << subject.program << " did not finish within "
                              << kRunTimeout.count() << " ms; stderr: " << r.err;
    outcome.status = r.status;
    outcome.output = read_file(dir.file(out_name));
    collect_files(subject, dir, outcome);
    if (!r.err.empty())
        std::cerr << "[cr_restart stderr] " << r.err;
}

void expect_same_outcome(const Subject &subject, const Outcome &reference, const Outcome &actual,
                         const std::string &what)
{
    EXPECT_EQ(describe_status(actual.status), describe_status(reference.status))
        << what << ": exit status differs from the uninterrupted run";
    std::string want = comparable_output(subject, reference.output);
    std::string got = comparable_output(subject, actual.output);
    EXPECT_TRUE(want == got) << what << ": output differs from the uninterrupted run: "
                             << first_difference(want, got);
    for (const auto &[name, content] : reference.files) {
        auto it = actual.files.find(name);
        ASSERT_NE(it, actual.files.end());
        EXPECT_TRUE(it->second == content) << what << ": file " << name
                                           << " differs: " << first_difference(content, it->second);
    }
}

void expect_deterministic(const Subject &subject)
{
    TempDir dir;
    Outcome first, second;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(subject, dir, "first.out", first));
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(subject, dir, "second.out", second));
    EXPECT_EQ(exit_code(first.status), 0) << describe_status(first.status) << "\n" << first.output;
    // Subjects that check a property themselves print MISMATCH when it fails.
    EXPECT_EQ(first.output.find("MISMATCH"), std::string::npos) << first.output;
    expect_same_outcome(subject, first, second, "second uninterrupted run");
}

// What every variant starts with: the reference run, then the subject under
// cr_run with its first lines written.
struct VariantRun {
    TempDir dir;
    StartLog starts{dir};
    Outcome reference;
    std::optional<Process> app;
};

static void start_variant(const Subject &subject, VariantRun &run)
{
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(subject, run.dir, "reference.out", run.reference));
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(subject, run.dir, "checkpointed.out",
                                               subject.checkpoint_after_lines, run.app));
    ASSERT_EQ(run.starts.starts(), 2u) << "start log not written: the subject does not call note_start()";
}

// `cr_checkpoint --kill` of `process` (cr_run or cr_restart), which must then
// mirror its program's SIGKILL.
static void checkpoint_kill(Process &process, const std::string &image, const TempDir &dir, const char *what)
{
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(process.pid(), image, {"--kill"}, dir.path()));
    auto status = process.wait(10s);
    ASSERT_TRUE(status) << what << " still running 10 s after cr_checkpoint --kill";
    EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL)
        << what << " should mirror the program's SIGKILL, got " << describe_status(*status);
}

// The last restart runs to the end and must match the reference, with main() never run again.
static void finish_variant(const Subject &subject, VariantRun &run, const std::string &image, const char *what)
{
    Outcome restarted;
    ASSERT_NO_FATAL_FAILURE(restart_to_completion(subject, run.dir, image, "checkpointed.out", restarted));
    expect_same_outcome(subject, run.reference, restarted, what);
    EXPECT_EQ(run.starts.starts(), 2u)
        << "the program's main() ran again: cr_restart re-executed the command instead of restoring it";
}

void checkpoint_kill_restart_matches_reference(const Subject &subject)
{
    VariantRun run;
    ASSERT_NO_FATAL_FAILURE(start_variant(subject, run));
    std::string image = run.dir.file("image.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_kill(*run.app, image, run.dir, "cr_run"));
    finish_variant(subject, run, image, "after checkpoint --kill + restart");
}

void live_checkpoint_sigkill_restart_matches_reference(const Subject &subject)
{
    VariantRun run;
    ASSERT_NO_FATAL_FAILURE(start_variant(subject, run));
    std::string image = run.dir.file("image.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(run.app->pid(), image, {}, run.dir.path()));
    // The program goes on after the checkpoint; what it does now is lost
    // with the node, and the restart must not repeat or miss any of it.
    size_t at_checkpoint = count_lines(run.dir.file("checkpointed.out"));
    wait_for_lines(run.dir.file("checkpointed.out"), at_checkpoint + 2, 2s);
    run.app->kill_tree();
    finish_variant(subject, run, image, "after live checkpoint, SIGKILL, restart");
}

void checkpoint_restart_twice_matches_reference(const Subject &subject)
{
    VariantRun run;
    ASSERT_NO_FATAL_FAILURE(start_variant(subject, run));
    const TempDir &dir = run.dir;
    std::string first = dir.file("first.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_kill(*run.app, first, dir, "cr_run"));

    // Restart in the background and let it show progress (two more lines),
    // leaving most of the run for the second restart to finish.
    size_t at_first = count_lines(dir.file("checkpointed.out"));
    size_t total = line_count(run.reference.output);
    ASSERT_GT(total, at_first + 4) << subject.program << " is too short for a second checkpoint";
    size_t target = at_first + 2;
    std::optional<Process> restarted;
    restarted.emplace(Process::spawn({tool("cr_restart"), first},
                                     {"/", dir.file("restart1.out"), dir.file("restart1.err"), {}, {}}));
    ASSERT_TRUE(wait_for_lines(dir.file("checkpointed.out"), target, kProgressTimeout))
        << "restarted " << subject.program << " made no progress; cr_restart stderr: "
        << read_file(dir.file("restart1.err"));
    std::string second = dir.file("second.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_kill(*restarted, second, dir, "cr_restart"));
    finish_variant(subject, run, second, "checkpoint -> restart -> checkpoint -> restart");
}

void all_variants_match_reference(const Subject &subject)
{
    {
        SCOPED_TRACE("checkpoint --kill, restart");
        checkpoint_kill_restart_matches_reference(subject);
    }
    if (::testing::Test::HasFatalFailure())
        return;
    {
        SCOPED_TRACE("live checkpoint, SIGKILL, restart");
        live_checkpoint_sigkill_restart_matches_reference(subject);
    }
    if (::testing::Test::HasFatalFailure())
        return;
    SCOPED_TRACE("checkpoint, restart, checkpoint, restart");
    checkpoint_restart_twice_matches_reference(subject);
}

} // namespace crtest
