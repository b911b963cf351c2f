// cr_info --json on an image of a tree lists every process and thread, with
// the pids and tids the programs saw and the thread names they set.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>
#include <thread>

#include "tree_harness.h"

namespace crtree {
namespace {

TEST(TreeInfo, JsonListsEveryProcessAndThread)
{
    std::string missing = missing_pieces();
    if (!missing.empty())
        GTEST_SKIP() << missing;
    TempDir dir;
    std::string rundir = dir.subdir("run");
    // bash, threads_sync with 4 threads (5 in all), resource_holder and its
    // child: 4 processes, 8 threads. Output goes to separate files.
    std::string script = "'" + mt_program("threads_sync") + "' 4 400 10 > ts.out & '" +
                         mt_program("resource_holder") + "' child 400 10 > rh.out & wait";
    Subject tree{"bash tree", {"/bin/bash", "-c", script}, 0, 0};
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_subject(tree, rundir, 0, app));
    ASSERT_TRUE(wait_for_lines(rundir + "/ts.out", 20, kProgressTimeout));
    ASSERT_TRUE(wait_for_lines(rundir + "/rh.out", 4, kProgressTimeout));

    // The live tree, as the kernel sees it (innermost pids).
    std::map<pid_t, std::set<pid_t>> live;
    for (pid_t host : descendants(app->pid()))
        if (ns_pid(host) > 1)
            live[ns_pid(host)] = ns_tids(host);
    ASSERT_EQ(live.size(), 4u);

    std::string image = dir.file("image");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {}));
    RunResult info = run({tool("cr_info"), "--json", image}, "/", kToolTimeout);
    ASSERT_EQ(exit_code(info.status), 0) << info.err;
    nlohmann::json json;
    ASSERT_NO_THROW(json = nlohmann::json::parse(info.out)) << info.out;

    ASSERT_TRUE(json["processes"].is_array()) << info.out;
    EXPECT_EQ(json["processes"].size(), 4u) << "process count";
    size_t threads = 0;
    std::map<pid_t, std::set<pid_t>> imaged;
    std::set<std::string> names;
    for (const auto &p : json["processes"]) {
        pid_t pid = p["pid"].get<pid_t>();
        for (const auto &t : p["threads"]) {
            imaged[pid].insert(t["tid"].get<pid_t>());
            names.insert(t["name"].get<std::string>());
            threads++;
        }
    }
    EXPECT_EQ(threads, 8u) << "thread count";
    EXPECT_EQ(imaged, live) << "pids and tids in the image differ from the live tree";
    EXPECT_EQ(json["root_pid"], 2);
    EXPECT_EQ(json["pid_namespace"], true);
    for (const char *name : {"worker-00", "worker-01", "worker-02", "worker-03", "threads_sync",
                             "resource_holder", "bash"})
        EXPECT_TRUE(names.count(name)) << "no thread named " << name << " in " << info.out;
    // The threads_sync tids match what the program printed.
    std::string ts_out = read_file(rundir + "/ts.out");
    std::regex re("ids: thread [0-9]+ tid=([0-9]+)");
    std::set<pid_t> printed;
    for (auto it = std::sregex_iterator(ts_out.begin(), ts_out.end(), re);
         it != std::sregex_iterator(); ++it)
        printed.insert(std::stoi((*it)[1]));
    EXPECT_EQ(printed.size(), 4u);
    bool found = false;
    for (const auto &[pid, tids] : imaged)
        if (tids.size() == 5) {
            found = true;
            for (pid_t tid : printed)
                EXPECT_TRUE(tids.count(tid)) << "tid " << tid << " missing from the image";
        }
    EXPECT_TRUE(found) << "no process with 5 threads in the image";
    // The human-readable listing names every process too.
    RunResult text = run({tool("cr_info"), image}, "/", kToolTimeout);
    EXPECT_NE(text.out.find("Processes:      4"), std::string::npos) << text.out;
    app->kill_tree();
}

} // namespace
} // namespace crtree
