// What cannot be restored is refused at checkpoint time: one line naming the
// process (and the descriptor), a non-zero exit, no image, and the processes
// keep running to their normal end. Also: --pid of one process of a tree,
// and --sid / --pgid of a session.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "tree_harness.h"

namespace crtree {
namespace {

class TreeRefusal : public ::testing::Test {
protected:
    void SetUp() override
    {
        std::string missing = missing_pieces();
        if (!missing.empty())
            GTEST_SKIP() << missing;
    }

    // Starts `cr_run resource_holder ARGS... 150 10` (1.5 s of ticks) and
    // waits until it ticks.
    void start_holder(const std::vector<std::string> &args)
    {
        Subject s{"resource_holder", {mt_program("resource_holder")}, 0, 0};
        s.argv.insert(s.argv.end(), args.begin(), args.end());
        s.argv.insert(s.argv.end(), {"150", "10"});
        rundir_ = dir_.subdir("run");
        ASSERT_NO_FATAL_FAILURE(start_subject(s, rundir_, 4, app_));
    }

    // The program's host pid: the descendant whose pid in the namespace is 2.
    pid_t program_pid(int inner = 2)
    {
        for (pid_t host : descendants(app_->pid()))
            if (ns_pid(host) == inner)
                return host;
        return -1;
    }

    // Refused with a message holding every one of `needles`; no image; the
    // program keeps ticking and ends normally.
    void expect_refused(const std::vector<std::string> &needles)
    {
        std::string image = dir_.file("image");
        size_t before = count_lines(rundir_ + "/out.txt");
        RunResult r = checkpoint(app_->pid(), image, {});
        ASSERT_FALSE(r.timed_out) << "cr_checkpoint hung: " << r.err;
        EXPECT_NE(exit_code(r.status), 0) << "checkpoint should have been refused";
        for (const auto &needle : needles)
            EXPECT_NE(r.err.find(needle), std::string::npos)
                << "refusal should mention \"" << needle << "\", got: " << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line expected: " << r.err;
        EXPECT_FALSE(file_exists(image)) << "a refused checkpoint left an image";
        for (const auto &name : std::filesystem::directory_iterator(dir_.path()))
            EXPECT_EQ(name.path().filename().string().find(".image"), std::string::npos)
                << "temporary image left behind: " << name.path();
        EXPECT_TRUE(wait_for_lines(rundir_ + "/out.txt", before + 3, kProgressTimeout))
            << "the program stopped ticking after the refusal";
        Outcome outcome;
        ASSERT_NO_FATAL_FAILURE(finish(*app_, rundir_, outcome));
        EXPECT_EQ(describe_status(outcome.status), "exit 0");
        EXPECT_NE(outcome.output.find("tick 150\n"), std::string::npos) << outcome.output;
    }

    TempDir dir_;
    std::string rundir_;
    std::optional<Process> app_;
};

TEST_F(TreeRefusal, TcpConnectionToOutsideIsRefusedNamingPidAndFd)
{
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sin;
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr *>(&sin), sizeof sin), 0);
    ASSERT_EQ(listen(listener, 4), 0);
    ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr *>(&sin), &len), 0);
    ASSERT_NO_FATAL_FAILURE(start_holder({"tcp", std::to_string(ntohs(sin.sin_port))}));
    int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(conn, 0);
    ASSERT_NE(read_file(rundir_ + "/out.txt").find("ready fd=3\n"), std::string::npos);
    pid_t pid = program_pid();
    ASSERT_GT(pid, 0);
    expect_refused({"pid " + std::to_string(pid), "fd 3", "socket"});
    close(conn);
    close(listener);
}

TEST_F(TreeRefusal, UnixSocketToOutsideIsRefusedNamingPidAndFd)
{
    std::string path = dir_.file("listener.sock");
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listener, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path.c_str());
    ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr *>(&sun), sizeof sun), 0);
    ASSERT_EQ(listen(listener, 4), 0);
    ASSERT_NO_FATAL_FAILURE(start_holder({"unix", path}));
    int conn = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(conn, 0);
    pid_t pid = program_pid();
    ASSERT_GT(pid, 0);
    expect_refused({"pid " + std::to_string(pid), "fd 3", "socket"});
    close(conn);
    close(listener);
}

// Since issue 11 a socketpair between processes of the tree is restorable
// (tests/cr/sockets_test.cpp checks the restore): no longer refused.
TEST_F(TreeRefusal, SocketpairInsideTheTreeIsNotRefused)
{
    ASSERT_NO_FATAL_FAILURE(start_holder({"socketpair"}));
    ASSERT_GT(program_pid(), 0);
    std::string image = dir_.file("image");
    RunResult r = checkpoint(app_->pid(), image, {});
    EXPECT_EQ(exit_code(r.status), 0) << r.err;
    EXPECT_TRUE(file_exists(image));
}

TEST_F(TreeRefusal, SysVSharedMemoryIsRefused)
{
    ASSERT_NO_FATAL_FAILURE(start_holder({"shm"}));
    pid_t pid = program_pid();
    ASSERT_GT(pid, 0);
    expect_refused({"pid " + std::to_string(pid), "SysV shared memory"});
}

TEST_F(TreeRefusal, TracedProcessIsRefusedUntilTheTracerDetaches)
{
    ASSERT_NO_FATAL_FAILURE(start_holder({"plain"}));
    pid_t pid = program_pid();
    ASSERT_GT(pid, 0);
    // A tiny debugger: seize the program, then wait to be killed. Its exit
    // detaches the tracee.
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    pid_t tracer = fork();
    ASSERT_GE(tracer, 0);
    if (tracer == 0) {
        char ok = ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) == 0 ? 'y' : 'n';
        (void)!write(ready[1], &ok, 1);
        for (;;)
            pause();
    }
    close(ready[1]);
    char ok = 'n';
    ASSERT_EQ(read(ready[0], &ok, 1), 1);
    close(ready[0]);
    if (ok != 'y') {
        kill(tracer, SIGKILL);
        waitpid(tracer, nullptr, 0);
        GTEST_SKIP() << "ptrace(PTRACE_SEIZE) is not permitted here (Yama ptrace_scope?)";
    }
    RunResult r = checkpoint(app_->pid(), dir_.file("image"), {});
    kill(tracer, SIGKILL);
    waitpid(tracer, nullptr, 0);
    EXPECT_NE(exit_code(r.status), 0);
    EXPECT_NE(r.err.find("pid " + std::to_string(pid) + " is being traced"), std::string::npos)
        << r.err;
    EXPECT_NE(r.err.find(std::to_string(tracer)), std::string::npos) << "should name the tracer: "
                                                                      << r.err;
    EXPECT_FALSE(file_exists(dir_.file("image")));
    // Detached: now it works, and the program was not disturbed.
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app_->pid(), dir_.file("image"), {}));
    Outcome outcome;
    ASSERT_NO_FATAL_FAILURE(finish(*app_, rundir_, outcome));
    EXPECT_EQ(describe_status(outcome.status), "exit 0");
    EXPECT_NE(outcome.output.find("tick 150\n"), std::string::npos);
}

// --pid ID: just that process of the tree, which keeps running.
TEST_F(TreeRefusal, PidScopeCheckpointsOneProcessOfATree)
{
    ASSERT_NO_FATAL_FAILURE(start_holder({"child"}));
    pid_t parent = program_pid(2), child = program_pid(3);
    ASSERT_GT(parent, 0);
    ASSERT_GT(child, 0) << "the holder's child is not running";
    for (auto [host, inner] : {std::pair{child, 3}, std::pair{parent, 2}}) {
        std::string image = dir_.file("pid" + std::to_string(inner));
        ASSERT_NO_FATAL_FAILURE(checkpoint_ok(host, image, {"--pid"}));
        RunResult info = run({tool("cr_info"), "--json", image}, "/", kToolTimeout);
        ASSERT_EQ(exit_code(info.status), 0) << info.err;
        auto json = nlohmann::json::parse(info.out);
        ASSERT_EQ(json["processes"].size(), 1u) << info.out;
        EXPECT_EQ(json["processes"][0]["pid"], inner);
        EXPECT_EQ(json["processes"][0]["threads"].size(), 1u);
        EXPECT_TRUE(process_alive(host));
    }
    // And the whole tree (default scope) holds both.
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app_->pid(), dir_.file("tree"), {}));
    RunResult info = run({tool("cr_info"), "--json", dir_.file("tree")}, "/", kToolTimeout);
    auto json = nlohmann::json::parse(info.out);
    EXPECT_EQ(json["processes"].size(), 2u) << info.out;
    Outcome outcome;
    ASSERT_NO_FATAL_FAILURE(finish(*app_, rundir_, outcome));
    EXPECT_EQ(describe_status(outcome.status), "exit 0");
    EXPECT_NE(outcome.output.find("tick 150\n"), std::string::npos);
}

// --sid ID and --pgid ID: every process of a session or process group. The
// program makes itself a session (and group) leader with setsid(1), so both
// scopes hold it and its child, and the image records it as the leader.
TEST_F(TreeRefusal, SessionAndGroupScopesHoldTheLeaderAndItsChild)
{
    Subject s{"setsid resource_holder", {"/usr/bin/setsid", mt_program("resource_holder"), "child", "150", "10"},
              0, 0};
    rundir_ = dir_.subdir("run");
    ASSERT_NO_FATAL_FAILURE(start_subject(s, rundir_, 4, app_));
    pid_t leader = program_pid(2);
    ASSERT_GT(leader, 0);
    ASSERT_GT(program_pid(3), 0) << "the holder's child is not running";
    for (const char *scope : {"--sid", "--pgid"}) {
        std::string image = dir_.file(std::string("scope") + scope);
        ASSERT_NO_FATAL_FAILURE(checkpoint_ok(leader, image, {scope}));
        RunResult info = run({tool("cr_info"), "--json", image}, "/", kToolTimeout);
        ASSERT_EQ(exit_code(info.status), 0) << info.err;
        auto json = nlohmann::json::parse(info.out);
        ASSERT_EQ(json["processes"].size(), 2u) << scope << ": " << info.out;
        for (const auto &p : json["processes"]) {
            EXPECT_EQ(p["sid"], 2) << scope << ": " << p.dump();
            EXPECT_EQ(p["pgid"], 2) << scope << ": " << p.dump();
        }
        EXPECT_TRUE(process_alive(leader));
    }
    // Restarted from a --sid image, the leader leads a session again.
    std::string image = dir_.file("session");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(leader, image, {"--sid", "--kill"}));
    ASSERT_NO_FATAL_FAILURE(expect_killed(*app_, "cr_run"));
    std::optional<Process> restarted;
    start_restart(image, dir_.path(), "session", {}, restarted);
    pid_t again = -1;
    for (int i = 0; i < 200 && again < 0; i++) {
        for (pid_t host : descendants(restarted->pid()))
            if (ns_pid(host) == 2)
                again = host;
        if (again < 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_GT(again, 0) << "the restored leader did not appear";
    EXPECT_EQ(getsid(again), again) << "the restored program is not a session leader";
    EXPECT_EQ(getpgid(again), again) << "the restored program is not a group leader";
    Outcome outcome;
    ASSERT_NO_FATAL_FAILURE(finish(*restarted, rundir_, outcome));
    EXPECT_EQ(describe_status(outcome.status), "exit 0");
    EXPECT_NE(outcome.output.find("tick 150\n"), std::string::npos);
}

} // namespace
} // namespace crtree
