// Site policy enforced by pbs_server (issue 14, item 3): run and queuable limits, ACLs on
// users, groups and hosts, resources_max/min/default, priorities and disallowed_types. Real
// daemons, real users; every refusal is checked for TORQUE's message and exit code.
#include <gtest/gtest.h>

#include <thread>

#include "harness.h"

using namespace reprise::test;
using namespace std::chrono_literals;

namespace {

const char* kAlice = "reprise_p1";
const char* kBob = "reprise_p2";
const char* kGroup = "reprise_pgrp";

class Policy : public ::testing::Test {
 protected:
  void SetUp() override {
    ensure_user(kAlice);
    ensure_user(kBob);
    ASSERT_TRUE(c.ok()) << c.why();
    node = c.cmd("", {"pbsnodes", "-a"}).out;
    node = node.substr(0, node.find('\n'));
    ASSERT_EQ(qmgr("set node " + node + " np = 4").code, 0);
  }
  Result qmgr(const std::string& command) {
    Result r = c.cmd("", {"qmgr", "-c", command});
    EXPECT_EQ(r.err, "") << command;
    return r;
  }
  Result qsub(const std::string& user, std::vector<std::string> opts, const std::string& script = "true\n") {
    std::vector<std::string> argv{"qsub"};
    argv.insert(argv.end(), opts.begin(), opts.end());
    return c.cmd(user, argv, c.workdir(user), script);
  }
  // Which of `jobs` run now, once the scheduler has had a pass or two.
  std::vector<std::string> running(const std::vector<std::string>& jobs) {
    std::this_thread::sleep_for(1500ms);
    std::vector<std::string> r;
    for (const auto& j : jobs)
      if (c.attr(j, "job_state") == "R") r.push_back(j);
    return r;
  }
  Cluster c;
  std::string node;
};

TEST_F(Policy, QueueMaxRunningHoldsTheSecondJobWithAComment) {
  ASSERT_EQ(qmgr("set queue batch max_running = 1").code, 0);
  std::string first = c.submit(kAlice, "sleep 60\n");
  ASSERT_TRUE(c.wait_state(first, "R"));
  std::string second = c.submit(kAlice, "sleep 60\n");
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(running({first, second}), std::vector<std::string>{first}) << "max_running=1 lets one job run";
  EXPECT_EQ(c.attr(second, "comment"), "Not Running: Queue job limit reached (queue batch max_running = 1)");
  ASSERT_EQ(c.cmd("", {"qdel", first}).code, 0);
  EXPECT_TRUE(c.wait_state(second, "R"));
  EXPECT_EQ(c.attr(second, "comment"), "") << "the comment goes once the job runs";
}

TEST_F(Policy, ServerMaxRunningCountsEveryQueue) {
  ASSERT_EQ(qmgr("create queue other queue_type = execution, enabled = true, started = true").code, 0);
  ASSERT_EQ(qmgr("set server max_running = 1").code, 0);
  std::string first = c.submit(kAlice, "sleep 60\n");
  ASSERT_TRUE(c.wait_state(first, "R"));
  std::string second = c.submit(kBob, "sleep 60\n", {"-q", "other"});
  EXPECT_EQ(running({first, second}), std::vector<std::string>{first});
  EXPECT_EQ(c.attr(second, "comment"), "Not Running: Server job limit reached (server max_running = 1)");
}

TEST_F(Policy, MaxUserRunLimitsEachUserAlone) {
  ASSERT_EQ(qmgr("set queue batch max_user_run = 1").code, 0);
  std::string a1 = c.submit(kAlice, "sleep 60\n");
  ASSERT_TRUE(c.wait_state(a1, "R"));
  std::string a2 = c.submit(kAlice, "sleep 60\n");
  std::string b1 = c.submit(kBob, "sleep 60\n");
  EXPECT_EQ(running({a1, a2, b1}), (std::vector<std::string>{a1, b1}));
  EXPECT_EQ(c.attr(a2, "comment"),
            "Not Running: User has reached queue running job limit. (queue batch max_user_run = 1)");
  // The server's max_user_run the same way, over all queues.
  ASSERT_EQ(qmgr("set server max_user_run = 1").code, 0);
  ASSERT_EQ(qmgr("unset queue batch max_user_run").code, 0);
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(c.attr(a2, "job_state"), "Q");
  EXPECT_EQ(c.attr(a2, "comment"),
            "Not Running: User has reached server running job limit. (server max_user_run = 1)");
}

TEST_F(Policy, MaxQueuableRefusesTheSubmissionThatWouldExceedIt) {
  ASSERT_EQ(qmgr("set queue batch max_queuable = 2").code, 0);
  EXPECT_FALSE(c.submit(kAlice, "sleep 60\n", {"-h"}).empty());
  EXPECT_FALSE(c.submit(kBob, "sleep 60\n", {"-h"}).empty());
  Result third = qsub(kAlice, {"-h"});
  EXPECT_EQ(third.code, 15048 % 256) << third.err;  // PBSE_MAXQUED
  EXPECT_NE(third.err.find("qsub: submit error (Maximum number of jobs already in queue MSG=total number of jobs in "
                           "queue exceeds the queue limit: user reprise_p1@"),
            std::string::npos)
      << third.err;
  EXPECT_NE(third.err.find("(queue max_queuable = 2)"), std::string::npos) << third.err;
  // The server's limit counts all queues.
  ASSERT_EQ(qmgr("unset queue batch max_queuable").code, 0);
  ASSERT_EQ(qmgr("set server max_queuable = 2").code, 0);
  Result server = qsub(kBob, {"-h"});
  EXPECT_EQ(server.code, 15048 % 256) << server.err;
  EXPECT_NE(server.err.find("(server max_queuable = 2)"), std::string::npos) << server.err;
}

TEST_F(Policy, MaxUserQueuableCountsOnlyThatUsersJobs) {
  ASSERT_EQ(qmgr("set queue batch max_user_queuable = 1").code, 0);
  EXPECT_FALSE(c.submit(kAlice, "sleep 60\n", {"-h"}).empty());
  Result second = qsub(kAlice, {"-h"});
  EXPECT_EQ(second.code, 15076 % 256) << second.err;  // PBSE_MAXUSERQUED
  EXPECT_NE(second.err.find("Maximum number of jobs already in queue for user MSG=total number of current user's "
                            "jobs exceeds the queue limit"),
            std::string::npos)
      << second.err;
  EXPECT_NE(second.err.find("(queue max_user_queuable = 1)"), std::string::npos) << second.err;
  EXPECT_FALSE(c.submit(kBob, "true\n", {"-h"}).empty()) << "another user still may";
  ASSERT_EQ(qmgr("unset queue batch max_user_queuable").code, 0);
  ASSERT_EQ(qmgr("set server max_user_queuable = 1").code, 0);
  Result server = qsub(kAlice, {"-h"});
  EXPECT_EQ(server.code, 15076 % 256) << server.err;
  EXPECT_NE(server.err.find("(server max_user_queuable = 1)"), std::string::npos) << server.err;
}

TEST_F(Policy, AclUsersAdmitsOnlyListedUsersOnceEnabled) {
  ASSERT_EQ(qmgr(std::string("set queue batch acl_users = ") + kAlice).code, 0);
  EXPECT_FALSE(c.submit(kBob, "true\n").empty()) << "the list has no effect until acl_user_enable";
  ASSERT_EQ(qmgr("set queue batch acl_user_enable = true").code, 0);
  EXPECT_FALSE(c.submit(kAlice, "true\n").empty());
  Result refused = qsub(kBob, {});
  EXPECT_EQ(refused.code, 15007 % 256) << refused.err;  // PBSE_PERM, 159 as TORQUE's qsub
  EXPECT_NE(refused.err.find("qsub: submit error (Unauthorized Request  MSG=user ACL rejected the submitting user: "
                             "user reprise_p2@"),
            std::string::npos)
      << refused.err;
  EXPECT_NE(refused.err.find(", queue batch (acl_users))"), std::string::npos) << refused.err;
  // The server's ACL, with a user@host entry.
  ASSERT_EQ(qmgr("set queue batch acl_user_enable = false").code, 0);
  ASSERT_EQ(qmgr(std::string("set server acl_users = ") + kBob + "@*, acl_user_enable = true").code, 0);
  EXPECT_FALSE(c.submit(kBob, "true\n").empty());
  Result server = qsub(kAlice, {});
  EXPECT_EQ(server.code, 15007 % 256) << server.err;
  EXPECT_NE(server.err.find(", server (acl_users)"), std::string::npos) << server.err;
}

TEST_F(Policy, AclGroupsUseTheGroupDatabaseOfTheSubmitter) {
  run({"groupadd", "-f", kGroup});
  run({"gpasswd", "-a", kAlice, kGroup});
  run({"gpasswd", "-d", kBob, kGroup});
  ASSERT_EQ(qmgr(std::string("set queue batch acl_groups = ") + kGroup + ", acl_group_enable = true").code, 0);
  EXPECT_FALSE(c.submit(kAlice, "true\n").empty()) << "a supplementary group counts";
  Result refused = qsub(kBob, {});
  EXPECT_EQ(refused.code, 15007 % 256) << refused.err;
  EXPECT_NE(refused.err.find("MSG=group ACL is not satisfied: user reprise_p2@"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("(acl_groups)"), std::string::npos) << refused.err;
  // acl_logic_or: either list admits.
  ASSERT_EQ(qmgr(std::string("set queue batch acl_users = ") + kBob + ", acl_user_enable = true, acl_logic_or = true").code, 0);
  EXPECT_FALSE(c.submit(kBob, "true\n").empty());
  EXPECT_FALSE(c.submit(kAlice, "true\n").empty());
}

TEST_F(Policy, AclHostsUseTheHostTheConnectionComesFrom) {
  std::string id = c.submit(kAlice, "true\n");
  ASSERT_FALSE(id.empty());
  std::string host = c.attr(id, "submit_host");
  ASSERT_FALSE(host.empty());
  ASSERT_EQ(qmgr("set queue batch acl_hosts = nowhere.example.org, acl_host_enable = true").code, 0);
  Result refused = qsub(kAlice, {});
  EXPECT_EQ(refused.code, 15010 % 256) << refused.err;  // PBSE_BADHOST
  EXPECT_NE(refused.err.find("Access from host not allowed, or unknown host MSG=host ACL rejected the submitting "
                             "host: user reprise_p1@" + host + ", queue batch, host " + host + " (acl_hosts)"),
            std::string::npos)
      << refused.err;
  ASSERT_EQ(qmgr("set queue batch acl_hosts += " + host).code, 0);
  EXPECT_FALSE(c.submit(kAlice, "true\n").empty());
  ASSERT_EQ(qmgr("set server acl_hosts = *.example.org, acl_host_enable = true").code, 0);
  Result server = qsub(kAlice, {});
  EXPECT_EQ(server.code, 15010 % 256) << server.err;
  EXPECT_NE(server.err.find(", server, host "), std::string::npos) << server.err;
}

TEST_F(Policy, ResourcesMaxMinAndDefaultsWithTorquesPrecedence) {
  ASSERT_EQ(qmgr("set queue batch resources_max.mem = 100mb").code, 0);
  Result mem = qsub(kAlice, {"-l", "mem=200mb"});
  EXPECT_EQ(mem.code, 15038 % 256) << mem.err;  // PBSE_EXCQRESC, 190 as TORQUE's qsub
  EXPECT_NE(mem.err.find("qsub: submit error (Job exceeds queue resource limits MSG=cannot satisfy queue max mem "
                         "requirement (queue batch resources_max.mem = 100mb))"),
            std::string::npos)
      << mem.err;
  EXPECT_FALSE(c.submit(kAlice, "true\n", {"-l", "mem=100mb"}).empty());
  ASSERT_EQ(qmgr("set queue batch resources_min.walltime = 00:10:00").code, 0);
  Result shortjob = qsub(kAlice, {"-l", "walltime=00:01:00"});
  EXPECT_EQ(shortjob.code, 15038 % 256);
  EXPECT_NE(shortjob.err.find("cannot satisfy queue min walltime requirement"), std::string::npos) << shortjob.err;
  // The server's limit applies where the queue has none.
  ASSERT_EQ(qmgr("set server resources_max.nodes = 1").code, 0);
  Result nodes = qsub(kAlice, {"-l", "nodes=2"});
  EXPECT_EQ(nodes.code, 15038 % 256);
  EXPECT_NE(nodes.err.find("cannot satisfy server max nodes requirement (server resources_max.nodes = 1)"),
            std::string::npos)
      << nodes.err;
  ASSERT_EQ(qmgr("set server resources_max.cput = 00:30:00").code, 0);
  ASSERT_EQ(qmgr("set queue batch resources_max.cput = 02:00:00").code, 0);
  EXPECT_FALSE(c.submit(kAlice, "true\n", {"-l", "cput=01:00:00"}).empty()) << "the queue's limit wins over the server's";
  // Defaults: the job's own request, else the queue's default, else the server's.
  ASSERT_EQ(qmgr("set queue batch resources_default.mem = 50mb").code, 0);
  ASSERT_EQ(qmgr("set server resources_default.mem = 70mb, resources_default.vmem = 90mb").code, 0);
  ASSERT_EQ(qmgr("set server scheduling = false").code, 0);
  std::string dflt = c.submit(kAlice, "true\n");
  std::string own = c.submit(kAlice, "true\n", {"-l", "mem=20mb"});
  EXPECT_EQ(c.attr(dflt, "Resource_List.mem"), "50mb");
  EXPECT_EQ(c.attr(dflt, "Resource_List.vmem"), "90mb");
  EXPECT_EQ(c.attr(own, "Resource_List.mem"), "20mb");
  // A default is checked against the limits too.
  ASSERT_EQ(qmgr("set queue batch resources_default.mem = 500mb").code, 0);
  Result big_default = qsub(kAlice, {});
  EXPECT_NE(big_default.err.find("cannot satisfy queue max mem requirement"), std::string::npos) << big_default.err;
}

TEST_F(Policy, QueuePriorityThenJobPriorityOrderTheScheduler) {
  ASSERT_EQ(qmgr("set node " + node + " np = 1").code, 0);
  ASSERT_EQ(qmgr("create queue urgent queue_type = execution, enabled = true, started = true, priority = 10").code, 0);
  ASSERT_EQ(qmgr("set server scheduling = false").code, 0);
  std::string low = c.submit(kAlice, "sleep 60\n", {"-p", "-10"});
  std::string plain = c.submit(kAlice, "sleep 60\n");
  std::string high = c.submit(kAlice, "sleep 60\n", {"-p", "100"});
  std::string urgent = c.submit(kBob, "sleep 60\n", {"-q", "urgent", "-p", "-500"});
  ASSERT_EQ(qmgr("set server scheduling = true").code, 0);
  for (const std::string& next : {urgent, high, plain, low}) {
    ASSERT_TRUE(c.wait_state(next, "R")) << next;
    EXPECT_EQ(running({low, plain, high, urgent}), std::vector<std::string>{next});
    ASSERT_EQ(c.cmd("", {"qdel", next}).code, 0);
  }
}

TEST_F(Policy, DisallowedTypesRefuseThoseJobs) {
  ASSERT_EQ(qmgr("set queue batch disallowed_types = rerunable").code, 0);
  Result rerunable = qsub(kAlice, {});  // jobs are rerunable unless -r n
  EXPECT_EQ(rerunable.code, 15080 % 256) << rerunable.err;  // PBSE_NORERUNABLE
  EXPECT_NE(rerunable.err.find("Queue does not allow rerunable jobs MSG=rerunable job is not allowed for queue: "
                               "user reprise_p1@"),
            std::string::npos)
      << rerunable.err;
  EXPECT_FALSE(c.submit(kAlice, "true\n", {"-r", "n"}).empty());
  ASSERT_EQ(qmgr("set queue batch disallowed_types = nonrerunable").code, 0);
  Result nonrerunable = qsub(kAlice, {"-r", "n"});
  EXPECT_EQ(nonrerunable.code, 15081 % 256) << nonrerunable.err;
  EXPECT_FALSE(c.submit(kAlice, "true\n").empty());
  ASSERT_EQ(qmgr("set queue batch disallowed_types = batch").code, 0);
  Result batch = qsub(kAlice, {});
  EXPECT_EQ(batch.code, 15079 % 256) << batch.err;
  EXPECT_NE(batch.err.find("Queue does not allow batch jobs"), std::string::npos) << batch.err;
}

}  // namespace
