// Issue 11 items 1 and 2: sockets inside the checkpointed tree come back with
// their bytes in flight delivered exactly once; what cannot be restored is
// refused at checkpoint time with a line naming pid, fd and kind; a
// connection to outside the job is refused, or with --external-sockets=closed
// comes back closed so the program reconnects.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "subjects.h"

namespace crtest {
namespace {

Subject unix_sockets() { return {"unix_sockets", {"30", "40"}, 8, {}, false}; }

TEST(SubjectDeterminism, UnixSockets)
{
    TempDir dir;
    Outcome first, second;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(unix_sockets(), dir, "first.out", first));
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(unix_sockets(), dir, "second.out", second));
    EXPECT_EQ(exit_code(first.status), 0) << describe_status(first.status) << "\n" << first.output;
    EXPECT_EQ(first.output.find("MISMATCH"), std::string::npos) << first.output;
    expect_same_outcome(unix_sockets(), first, second, "second uninterrupted run");
}

TEST(Sockets, UnixSocketsAllVariants) { all_variants_match_reference(unix_sockets()); }

Subject tcp_sockets() { return {"tcp_sockets", {"30", "40"}, 8, {}, false}; }

TEST(SubjectDeterminism, TcpSockets)
{
    TempDir dir;
    Outcome first, second;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(tcp_sockets(), dir, "first.out", first));
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(tcp_sockets(), dir, "second.out", second));
    EXPECT_EQ(exit_code(first.status), 0) << describe_status(first.status) << "\n" << first.output;
    EXPECT_EQ(first.output.find("MISMATCH"), std::string::npos) << first.output;
    expect_same_outcome(tcp_sockets(), first, second, "second uninterrupted run");
}

// Loopback TCP v4 and v6, a listener with a connection in its backlog,
// options and a half-closed connection.
TEST(Sockets, TcpLoopbackAllVariants) { all_variants_match_reference(tcp_sockets()); }

Subject udp_sockets() { return {"udp_sockets", {"30", "40"}, 8, {}, false}; }

TEST(SubjectDeterminism, UdpSockets)
{
    TempDir dir;
    Outcome first, second;
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(udp_sockets(), dir, "first.out", first));
    ASSERT_NO_FATAL_FAILURE(run_uninterrupted(udp_sockets(), dir, "second.out", second));
    EXPECT_EQ(exit_code(first.status), 0) << describe_status(first.status) << "\n" << first.output;
    EXPECT_EQ(first.output.find("MISMATCH"), std::string::npos) << first.output;
    expect_same_outcome(udp_sockets(), first, second, "second uninterrupted run");
}

// Loopback UDP v4 (connected) and v6 (sendto), queued datagrams and their
// source addresses kept.
TEST(Sockets, UdpLoopbackAllVariants) { all_variants_match_reference(udp_sockets()); }

// The refusal names the program's pid as the caller sees it (a child of cr_run).
void expect_names_program_pid(const RunResult &r, pid_t cr_run_pid)
{
    bool named = false;
    for (pid_t p : descendants(cr_run_pid))
        named |= r.err.find("pid " + std::to_string(p) + " ") != std::string::npos ||
                 r.err.find("pid " + std::to_string(p) + ":") != std::string::npos;
    EXPECT_TRUE(named) << "the refusal should name the program's pid: " << r.err;
}

void expect_refusal(const RunResult &r, const std::vector<std::string> &needles)
{
    EXPECT_NE(exit_code(r.status), 0) << "checkpoint should have been refused";
    for (const auto &n : needles)
        EXPECT_NE(r.err.find(n), std::string::npos) << "stderr should contain \"" << n << "\", got: " << r.err;
    EXPECT_LE(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "not a one-line error: " << r.err;
}

TEST(Sockets, FileDescriptorsInFlightRefused)
{
    TempDir dir;
    Subject s{"socket_client", {"scm", "1000", "20"}, 2, {}, false};
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(s, dir, "run.out", 2, app));
    std::string image = dir.file("image.rpr");
    RunResult r = run({tool("cr_checkpoint"), "--file", image, std::to_string(app->pid())}, dir.path(), 60s);
    expect_refusal(r, {"pid ", "fd ", "UNIX stream socket", "SCM_RIGHTS"});
    expect_names_program_pid(r, app->pid());
    EXPECT_FALSE(file_exists(image));
    size_t lines = count_lines(dir.file("run.out"));
    EXPECT_TRUE(wait_for_lines(dir.file("run.out"), lines + 1, 10s)) << "program stopped after the refusal";
}

// A UNIX stream server outside the job: answers "ping N" with "pong N".
class OutsideServer {
public:
    explicit OutsideServer(const std::string &path) : path_(path)
    {
        listener_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
        unlink(path.c_str());
        ok_ = bind(listener_, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0 && listen(listener_, 8) == 0;
        thread_ = std::thread([this] { Serve(); });
    }
    ~OutsideServer()
    {
        stop_ = true;
        shutdown(listener_, SHUT_RDWR);
        thread_.join();
        close(listener_);
        unlink(path_.c_str());
    }
    bool ok() const { return ok_; }
    int connections() const { return connections_; }

private:
    void Serve()
    {
        std::vector<std::thread> clients;
        while (!stop_) {
            int c = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0)
                break;
            ++connections_;
            clients.emplace_back([c] {
                std::string line;
                char ch;
                while (recv(c, &ch, 1, 0) == 1) {
                    line += ch;
                    if (ch != '\n')
                        continue;
                    std::string reply = "pong" + line.substr(4);
                    send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
                    line.clear();
                }
                close(c);
            });
        }
        for (auto &t : clients)
            t.detach();
    }
    std::string path_;
    int listener_ = -1;
    bool ok_ = false;
    std::atomic<bool> stop_{false};
    std::atomic<int> connections_{0};
    std::thread thread_;
};

TEST(Sockets, ConnectionOutsideTheJobRefusedNamingBothEnds)
{
    TempDir dir;
    OutsideServer server(dir.file("license.sock"));
    ASSERT_TRUE(server.ok());
    Subject s{"socket_client", {"outside", dir.file("license.sock"), "1000", "20"}, 2, {}, false};
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(s, dir, "run.out", 2, app));
    std::string image = dir.file("image.rpr");
    RunResult r = run({tool("cr_checkpoint"), "--file", image, std::to_string(app->pid())}, dir.path(), 60s);
    expect_refusal(r, {"pid ", "fd ", "UNIX stream socket", "connected to " + dir.file("license.sock"),
                       "outside the job", "--external-sockets=closed"});
    expect_names_program_pid(r, app->pid());
    EXPECT_FALSE(file_exists(image));
}

TEST(Sockets, ExternalConnectionRestoredClosedAndProgramReconnects)
{
    TempDir dir;
    OutsideServer server(dir.file("license.sock"));
    ASSERT_TRUE(server.ok());
    Subject s{"socket_client", {"outside", dir.file("license.sock"), "40", "20"}, 5, {}, false};
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(s, dir, "run.out", 5, app));
    std::string image = dir.file("image.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {"--kill", "--external-sockets=closed"}, dir.path()));
    app->wait(10s);
    RunResult refused = run({tool("cr_restart"), image}, "/", 60s);
    EXPECT_NE(exit_code(refused.status), 0);
    EXPECT_NE(refused.err.find("--external-sockets=closed"), std::string::npos) << refused.err;
    RunResult r = run({tool("cr_restart"), "--external-sockets=closed", image}, "/", 60s);
    EXPECT_EQ(exit_code(r.status), 0) << r.err;
    std::string out = read_file(dir.file("run.out"));
    EXPECT_NE(out.find("connection lost at round"), std::string::npos) << out;
    EXPECT_NE(out.find("round 39 ok"), std::string::npos) << out;
    EXPECT_EQ(out.find("MISMATCH"), std::string::npos) << out;
    EXPECT_GE(server.connections(), 2);
}

// A listener comes back on its name or the restart fails clearly.
TEST(Sockets, RestartFailsClearlyWhenTheListenerNameIsTaken)
{
    TempDir dir;
    std::optional<Process> app;
    ASSERT_NO_FATAL_FAILURE(start_under_cr_run(unix_sockets(), dir, "run.out", 5, app));
    std::string image = dir.file("image.rpr");
    ASSERT_NO_FATAL_FAILURE(checkpoint_ok(app->pid(), image, {"--kill"}, dir.path()));
    app->wait(10s);
    // Someone else listens on uds.sock now.
    OutsideServer squatter(dir.file("uds.sock"));
    ASSERT_TRUE(squatter.ok());
    RunResult r = run({tool("cr_restart"), image}, "/", 60s);
    EXPECT_NE(exit_code(r.status), 0) << "restart should fail while uds.sock is taken";
    EXPECT_NE(r.err.find("uds.sock"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("taken"), std::string::npos) << r.err;
}

} // namespace
} // namespace crtest
