// Multi-threaded programs, process trees and interpreters through
// checkpoint --kill and restart: the output (every byte) and the exit status
// must be those of an uninterrupted run, pids and tids must be the same, and
// an image of a restarted tree must restart again.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <regex>

#include "tree_harness.h"

namespace crtree {
namespace {

class TreeSubject : public ::testing::TestWithParam<Subject> {
protected:
    void SetUp() override
    {
        std::string missing = missing_pieces();
        if (!missing.empty())
            GTEST_SKIP() << missing;
    }
};

// cr_run SUBJECT; cr_checkpoint --kill mid-run; cr_restart; compare.
void kill_restart_matches(const Subject &subject)
{
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(reference_run(subject, dir.subdir("reference"), reference));

    std::string rundir = dir.subdir("run");
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_subject(subject, rundir, subject.checkpoint_after_lines, app));
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), dir.file("image"), {"--kill"}));
    ASSERT_NO_FATAL_FAILURE(expect_killed(*app, "cr_run"));
    size_t at_checkpoint = count_lines(rundir + "/out.txt");
    EXPECT_LT(at_checkpoint, count_lines(dir.file("reference/out.txt")))
        << "the checkpoint came too late to be mid-run";

    std::optional<Process> restarted;
    start_restart(dir.file("image"), dir.path(), "first", {}, restarted);
    Outcome outcome;
    ASSERT_NO_FATAL_FAILURE(finish(*restarted, rundir, outcome));
    expect_same(subject, reference, outcome, "after checkpoint --kill and restart");
    EXPECT_EQ(read_file(dir.file("first.restart.err")), "") << "cr_restart complained";
}

TEST_P(TreeSubject, KillRestartMatchesUninterruptedRun)
{
    kill_restart_matches(GetParam());
}

// checkpoint --kill -> restart -> checkpoint --kill (of the cr_restart) ->
// restart: an image of a restarted tree must be as good as the first one.
void restarted_tree_restarts_again(const Subject &subject)
{
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(reference_run(subject, dir.subdir("reference"), reference));
    size_t total = count_lines(dir.file("reference/out.txt"));
    size_t first = subject.checkpoint_after_lines;
    size_t second = first + (total - first) / 3;
    ASSERT_GT(second, first);

    std::string rundir = dir.subdir("run");
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_subject(subject, rundir, first, app));
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), dir.file("image1"), {"--kill"}));
    ASSERT_NO_FATAL_FAILURE(expect_killed(*app, "cr_run"));

    std::optional<Process> restarted;
    start_restart(dir.file("image1"), dir.path(), "first", {}, restarted);
    ASSERT_NO_FATAL_FAILURE(wait_for_progress(rundir, second, *restarted,
                                              dir.file("first.restart.err"), "the first restart"));
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(restarted->pid(), dir.file("image2"), {"--kill"}));
    ASSERT_NO_FATAL_FAILURE(expect_killed(*restarted, "cr_restart"));
    EXPECT_LT(count_lines(rundir + "/out.txt"), total) << "second checkpoint came too late";

    std::optional<Process> again;
    start_restart(dir.file("image2"), dir.path(), "second", {}, again);
    Outcome outcome;
    ASSERT_NO_FATAL_FAILURE(finish(*again, rundir, outcome));
    expect_same(subject, reference, outcome, "after two checkpoint/restart cycles");
}

TEST_P(TreeSubject, CheckpointOfRestartedTreeRestartsAgain)
{
    restarted_tree_restarts_again(GetParam());
}

INSTANTIATE_TEST_SUITE_P(CrTree, TreeSubject, ::testing::ValuesIn(all_subjects()),
                         [](const ::testing::TestParamInfo<Subject> &info) {
                             std::string name = info.param.name;
                             for (char &c : name)
                                 if (!isalnum(static_cast<unsigned char>(c)))
                                     c = '_';
                             return name;
                         });

// --- pids and tids -------------------------------------------------------------

class TreePids : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string missing = missing_pieces();
        if (!missing.empty())
            GTEST_SKIP() << missing;
    }
};

// Pulls the numbers after "key=" out of the "ids:" lines.
std::vector<pid_t> ids_values(const std::string &text, const std::string &key)
{
    std::vector<pid_t> values;
    std::regex re("\\b" + key + "=([0-9]+)");
    for (const auto &line : ids_lines(text))
        for (auto it = std::sregex_iterator(line.begin(), line.end(), re);
             it != std::sregex_iterator(); ++it)
            values.push_back(static_cast<pid_t>(std::stoi((*it)[1])));
    return values;
}

// The restored processes as the program sees them: innermost pid -> host pid.
std::map<pid_t, pid_t> restored_tree(pid_t launcher)
{
    std::map<pid_t, pid_t> tree;
    for (pid_t host : descendants(launcher)) {
        pid_t inner = ns_pid(host);
        if (inner > 1) // 1 is the namespace's init, not part of the image
            tree[inner] = host;
    }
    return tree;
}

void threads_keep_tids()
{
    Subject subject = threads_sync_subject();
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(reference_run(subject, dir.subdir("reference"), reference));

    std::string rundir = dir.subdir("run");
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_subject(subject, rundir, subject.checkpoint_after_lines, app));
    // The tids the threads had before the checkpoint, as the program saw them.
    std::string before = read_file(rundir + "/out.txt");
    std::vector<pid_t> thread_tids = ids_values(before, "tid");
    ASSERT_EQ(thread_tids.size(), 9u) << "expected main + 8 thread tids in:\n" << before;
    std::map<pid_t, pid_t> live = restored_tree(app->pid());
    ASSERT_EQ(live.size(), 1u);
    std::set<pid_t> tids_before = ns_tids(live.begin()->second);
    EXPECT_EQ(tids_before, std::set<pid_t>(thread_tids.begin(), thread_tids.end()));

    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), dir.file("image"), {"--kill"}));
    ASSERT_NO_FATAL_FAILURE(expect_killed(*app, "cr_run"));
    size_t at_checkpoint = count_lines(rundir + "/out.txt");

    std::optional<Process> restarted;
    start_restart(dir.file("image"), dir.path(), "r", {}, restarted);
    ASSERT_NO_FATAL_FAILURE(wait_for_progress(rundir, at_checkpoint + 2, *restarted,
                                              dir.file("r.restart.err"), "cr_restart"));
    // While it runs: the kernel's view of the restored process and threads.
    std::map<pid_t, pid_t> tree = restored_tree(restarted->pid());
    ASSERT_EQ(tree.size(), 1u) << "one restored process expected";
    EXPECT_EQ(tree.begin()->first, 2) << "the program's pid in its namespace";
    EXPECT_EQ(ns_tids(tree.begin()->second), tids_before) << "tids after restart";

    Outcome outcome;
    ASSERT_NO_FATAL_FAILURE(finish(*restarted, rundir, outcome));
    expect_same(subject, reference, outcome, "after restart");
    // The program's own before/after comparison.
    std::smatch m;
    std::regex re("ids: thread ([0-9]+) start tid=([0-9]+) end tid=([0-9]+)");
    int threads_checked = 0;
    for (const auto &line : ids_lines(outcome.output))
        if (std::regex_match(line, m, re)) {
            EXPECT_EQ(m[2], m[3]) << line;
            threads_checked++;
        }
    EXPECT_EQ(threads_checked, 8);
    EXPECT_NE(outcome.output.find("ids: end pid=2 tid=2 gettid()==getpid(): yes"), std::string::npos)
        << outcome.output;
}

TEST_F(TreePids, ThreadsKeepTheirTidsAndSignalTargets)
{
    threads_keep_tids();
}

void processes_keep_pids()
{
    Subject subject = forker_subject();
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(reference_run(subject, dir.subdir("reference"), reference));

    std::string rundir = dir.subdir("run");
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_subject(subject, rundir, subject.checkpoint_after_lines, app));
    std::string before = read_file(rundir + "/out.txt");
    std::vector<pid_t> children = ids_values(before, "pid"); // parent, background, 4 workers
    ASSERT_GE(children.size(), 6u) << before;

    // parent pid of each process, innermost view, before the checkpoint
    auto inner_parents = [](const std::map<pid_t, pid_t> &tree) {
        std::map<pid_t, pid_t> parents;
        for (const auto &[inner, host] : tree) {
            std::string status = read_file("/proc/" + std::to_string(host) + "/status");
            std::smatch m;
            std::regex re("PPid:\\s*([0-9]+)");
            pid_t ppid_host = std::regex_search(status, m, re) ? std::stoi(m[1]) : -1;
            pid_t ppid_inner = -1;
            for (const auto &[i2, h2] : tree)
                if (h2 == ppid_host)
                    ppid_inner = i2;
            parents[inner] = ppid_inner;
        }
        return parents;
    };

    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), dir.file("image"), {"--kill"}));
    ASSERT_NO_FATAL_FAILURE(expect_killed(*app, "cr_run"));
    size_t at_checkpoint = count_lines(rundir + "/out.txt");

    std::optional<Process> restarted;
    start_restart(dir.file("image"), dir.path(), "r", {}, restarted);
    ASSERT_NO_FATAL_FAILURE(wait_for_progress(rundir, at_checkpoint + 2, *restarted,
                                              dir.file("r.restart.err"), "cr_restart"));
    std::map<pid_t, pid_t> tree = restored_tree(restarted->pid());
    for (pid_t pid : children)
        EXPECT_TRUE(tree.count(pid)) << "pid " << pid << " is not among the restored processes";
    std::map<pid_t, pid_t> parents = inner_parents(tree);
    for (size_t i = 1; i < children.size(); i++)
        EXPECT_EQ(parents[children[i]], 2) << "parent of " << children[i];

    Outcome outcome;
    ASSERT_NO_FATAL_FAILURE(finish(*restarted, rundir, outcome));
    expect_same(subject, reference, outcome, "after restart");
    EXPECT_EQ(outcome.output.find("pid changed"), std::string::npos) << outcome.output;
    std::smatch m;
    std::regex bg("ids: background child pid=([0-9]+) at start=([0-9]+) at end=([0-9]+)");
    ASSERT_TRUE(std::regex_search(outcome.output, m, bg)) << outcome.output;
    EXPECT_EQ(m[1], m[2]);
    EXPECT_EQ(m[2], m[3]);
    std::regex parent("ids: parent pid at start=([0-9]+) at end=([0-9]+)");
    ASSERT_TRUE(std::regex_search(outcome.output, m, parent)) << outcome.output;
    EXPECT_EQ(m[1], m[2]);
}

TEST_F(TreePids, ProcessesKeepPidsAndParents)
{
    processes_keep_pids();
}

// --no-restore-pid: new pids in the current namespace. What it guarantees:
// the same output apart from the printed pids ("ids:" lines) for programs
// that do not remember pids themselves; glibc's cached tids are patched so
// raise(), pthread_kill() and pthread_join() keep working.
class NoRestorePid : public TreeSubject {};

void same_output_apart_from_pids(const Subject &subject)
{
    TempDir dir;
    Outcome reference;
    ASSERT_NO_FATAL_FAILURE(reference_run(subject, dir.subdir("reference"), reference));

    std::string rundir = dir.subdir("run");
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_subject(subject, rundir, subject.checkpoint_after_lines, app));
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), dir.file("image"), {"--kill"}));
    ASSERT_NO_FATAL_FAILURE(expect_killed(*app, "cr_run"));

    std::optional<Process> restarted;
    start_restart(dir.file("image"), dir.path(), "r", {"--no-restore-pid"}, restarted);
    Outcome outcome;
    ASSERT_NO_FATAL_FAILURE(finish(*restarted, rundir, outcome));
    expect_same(subject, reference, outcome, "after restart --no-restore-pid", /*ignore_ids=*/true);
    EXPECT_EQ(outcome.output.find("ERROR"), std::string::npos) << outcome.output;
}

TEST_P(NoRestorePid, SameOutputApartFromPids)
{
    same_output_apart_from_pids(GetParam());
}

INSTANTIATE_TEST_SUITE_P(CrTree, NoRestorePid,
                         ::testing::Values(threads_sync_subject(), pipe_buffer_subject(),
                                           python_subject()),
                         [](const ::testing::TestParamInfo<Subject> &info) {
                             std::string name = info.param.name;
                             for (char &c : name)
                                 if (!isalnum(static_cast<unsigned char>(c)))
                                     c = '_';
                             return name;
                         });

} // namespace
} // namespace crtree
