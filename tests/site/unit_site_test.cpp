// Unit tests of what a TORQUE site brings (issue 14): its mom config, its nodes file, its
// `print server` dump's attributes, route queues' choice, $usecp, and the accounting records
// and how tracejob reads them back.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "client/tracejob_scan.h"
#include "common/mom_config_directives.h"
#include "common/pbs_home.h"
#include "common/torque_attributes.h"
#include "mom/health_check.h"
#include "mom/mom_directives.h"
#include "mom/prologue.h"
#include "server/accounting.h"
#include "server/nodes_file.h"
#include "server/route_queue.h"

namespace reprise {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(REPRISE_SITE_FIXTURES) + "/" + name);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(TorqueMomConfig, EveryDirectiveOfATorqueNodeIsAccepted) {
  MomConfig c;
  std::string error;
  ASSERT_TRUE(parse_mom_config(fixture("torque_mom_config"), c, error)) << error;
  EXPECT_EQ(c.server_host, "headnode");
  EXPECT_EQ(c.node_name, "node01");
  EXPECT_EQ(c.values["tmpdir"], "/tmp");
  EXPECT_EQ(c.values["prologalarm"], "120");
  // Both $usecp lines are kept.
  EXPECT_EQ(c.values["usecp"], "*.cluster.example:/home /home\nheadnode:/scratch /lustre/scratch");
  // The unknown directive is one warning; TORQUE's that do nothing here are said to do nothing.
  int unknown = 0, no_effect = 0;
  for (const auto& w : c.warnings) {
    if (w.find("unknown directive") != std::string::npos) {
      ++unknown;
      EXPECT_NE(w.find("$site_specific_knob"), std::string::npos) << w;
    }
    if (w.find("has no effect") != std::string::npos) ++no_effect;
  }
  EXPECT_EQ(unknown, 1);
  EXPECT_GE(no_effect, 20);
  for (const auto& w : c.warnings) {
    EXPECT_EQ(w.find("$tmpdir"), std::string::npos) << "implemented directives are not warned about: " << w;
    EXPECT_EQ(w.find("$usecp"), std::string::npos) << w;
  }
}

TEST(TorqueMomConfig, DirectiveTable) {
  for (const char* d : {"tmpdir", "job_output_file_umask", "prologalarm", "spool_as_final_name", "usecp", "pbsserver",
                        "node_check_script", "node_check_interval", "down_on_error"})
    EXPECT_EQ(mom_directive_use(d), DirectiveUse::kEffective) << d;
  for (const char* d : {"ideal_load", "job_starter", "cputmult", "log_keep_days", "rcpcmd", "varattr"})
    EXPECT_EQ(mom_directive_use(d), DirectiveUse::kNoEffect) << d;
  EXPECT_EQ(mom_directive_use("no_such_thing"), DirectiveUse::kUnknown);
}

TEST(TorqueMomConfig, SupervisorSettings) {
  MomConfig c;
  std::string e;
  ASSERT_TRUE(parse_mom_config("$job_output_file_umask 022\n$prologalarm 7\n$tmpdir /scratch/\n", c, e));
  mom::SupervisorSettings s = mom::supervisor_settings(c);
  EXPECT_EQ(s.output_umask, mode_t(022));
  EXPECT_EQ(s.prolog_alarm, 7);
  EXPECT_EQ(mom::job_tmpdir(c, "12.head"), "/scratch/12.head");
  MomConfig d;
  ASSERT_TRUE(parse_mom_config("$job_output_file_umask userdefault\n", d, e));
  EXPECT_EQ(mom::supervisor_settings(d).output_umask, mode_t(077));
  EXPECT_EQ(mom::supervisor_settings(d).prolog_alarm, 300);  // TORQUE's default
  EXPECT_EQ(mom::job_tmpdir(d, "12.head"), "");
}

TEST(TorqueMomConfig, UsecpMapsOutputPaths) {
  MomConfig c;
  std::string e;
  ASSERT_TRUE(parse_mom_config(fixture("torque_mom_config"), c, e)) << e;
  EXPECT_EQ(mom::output_path_on_node(c, "login1.cluster.example:/home/alice/job.o1"), "/home/alice/job.o1");
  EXPECT_EQ(mom::output_path_on_node(c, "headnode:/scratch/alice/x.o2"), "/lustre/scratch/alice/x.o2");
  // Another host or a path outside the mapping: written where it is.
  EXPECT_EQ(mom::output_path_on_node(c, "elsewhere:/scratch/alice/x.o2"), "/scratch/alice/x.o2");
  EXPECT_EQ(mom::output_path_on_node(c, "headnode:/scratch2/x"), "/scratch2/x");
  EXPECT_EQ(mom::output_path_on_node(c, "/plain/path"), "/plain/path");
}

TEST(Prologue, VerdictsFollowTorque) {
  using mom::PelogOutcome;
  using mom::PrologueVerdict;
  EXPECT_EQ(mom::prologue_verdict(PelogOutcome{false, 0, ""}), PrologueVerdict::kRun);
  EXPECT_EQ(mom::prologue_verdict(PelogOutcome{true, 0, ""}), PrologueVerdict::kRun);
  EXPECT_EQ(mom::prologue_verdict(PelogOutcome{true, 1, ""}), PrologueVerdict::kAbort);
  EXPECT_EQ(mom::prologue_verdict(PelogOutcome{true, 2, ""}), PrologueVerdict::kRequeue);
  EXPECT_EQ(mom::prologue_verdict(PelogOutcome{true, mom::kPelogTimeout, ""}), PrologueVerdict::kRequeue);
  EXPECT_EQ(mom::prologue_verdict(PelogOutcome{true, mom::kPelogPermission, ""}), PrologueVerdict::kHold);
}

TEST(NodesFile, ParsesTorqueLines) {
  std::vector<std::string> warnings;
  auto nodes = server::parse_nodes_file(
      "# the cluster\nnode01 np=16 bigmem ib\nnode02\tnp=8\n\nbad/name np=2\nnode03 np=x\nnode04 gpus=2 np=4 # c\n",
      warnings);
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].name, "node01");
  EXPECT_EQ(nodes[0].attrs.at("np"), "16");
  EXPECT_EQ(nodes[0].attrs.at("properties"), "bigmem,ib");
  EXPECT_EQ(nodes[1].attrs.at("np"), "8");
  EXPECT_EQ(nodes[2].attrs.at("gpus"), "2");
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("line 5"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("line 6"), std::string::npos) << warnings[1];
}

// Every `set` line of the dump names an attribute qmgr accepts: the server's own, TORQUE's
// kept without effect, or a resource.
TEST(TorqueServerDump, EveryAttributeIsKnown) {
  std::istringstream in(fixture("torque_print_server.qmgr"));
  std::string line;
  int checked = 0;
  const std::set<std::string> effective_server = {"scheduling", "managers", "operators", "default_queue", "mail_from",
                                                  "query_other_jobs", "node_check_rate", "tcp_timeout",
                                                  "keep_completed", "next_job_number", "allow_node_submit",
                                                  // enforced by policy.cpp, limits and arrays
                                                  "acl_hosts", "acl_host_enable", "acl_users", "acl_user_enable",
                                                  "acl_logic_or", "kill_delay", "max_job_array_size", "max_user_run",
                                                  "max_user_queuable"};
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string verb, type, first, name;
    words >> verb >> type >> first;
    if (verb != "set") continue;
    name = type == "server" ? first : "";
    if (type == "queue") words >> name;
    if (name.find('.') != std::string::npos) continue;  // resources_*.X
    TorqueValue kind;
    bool known = torque_attribute_without_effect(type, name, kind) || effective_server.count(name) ||
                 std::set<std::string>{"queue_type", "enabled", "started", "keep_completed", "route_destinations",
                                       "route_retry_time", "route_lifetime", "route_held_jobs",
                                       "max_running", "max_queuable", "max_user_run", "max_user_queuable",
                                       "acl_groups", "acl_group_enable", "acl_hosts", "acl_host_enable",
                                       "acl_logic_or", "acl_users", "acl_user_enable", "disallowed_types"}
                     .count(name);
    EXPECT_TRUE(known) << line;
    ++checked;
  }
  EXPECT_GT(checked, 40);
}

server::Queue queue(const std::string& name, server::Attrs attrs) { return server::Queue{name, std::move(attrs)}; }

// A one-node cluster: routing into an execution queue also checks that some node could run the job.
void add_a_node(server::ServerState& st) {
  server::Node n;
  n.name = "n1";
  n.attrs["np"] = "1";
  st.nodes["n1"] = n;
}

server::Job job_asking(const std::string& walltime) {
  server::Job j;
  j.attrs["Resource_List.walltime"] = walltime;
  j.attrs["euser"] = "alice";
  return j;
}

TEST(RouteQueue, FirstDestinationThatFits) {
  server::ServerState st;
  add_a_node(st);
  auto& qs = st.queues;
  qs["short"] = queue("short", {{"queue_type", "Execution"}, {"enabled", "True"}, {"resources_max.walltime", "00:30:00"}});
  qs["long"] = queue("long", {{"queue_type", "Execution"}, {"enabled", "True"}, {"resources_min.walltime", "00:30:01"},
                              {"resources_max.walltime", "72:00:00"}, {"resources_default.mem", "1gb"}});
  qs["route"] = queue("route", {{"queue_type", "Route"}, {"enabled", "True"}, {"route_destinations", "short,long"}});
  server::Submitter alice{"alice", "h1", {}};
  EXPECT_EQ(server::route_job(st, qs["route"], alice, job_asking("00:10:00")).dest, "short");
  server::RouteChoice to_long = server::route_job(st, qs["route"], alice, job_asking("02:00:00"));
  EXPECT_EQ(to_long.dest, "long");
  EXPECT_EQ(to_long.admitted.attr("Resource_List.mem"), "1gb") << "the destination's defaults apply";
  // No destination will ever take it: refused for good, with every destination's reason.
  server::RouteChoice never = server::route_job(st, qs["route"], alice, job_asking("100:00:00"));
  EXPECT_EQ(never.dest, "");
  EXPECT_FALSE(never.retry);
  EXPECT_NE(never.why.find("resources_max.walltime"), std::string::npos) << never.why;
  // A disabled destination may be enabled later: the job waits and routing is retried.
  qs["short"].attrs["enabled"] = "False";
  server::RouteChoice later = server::route_job(st, qs["route"], alice, job_asking("00:10:00"));
  EXPECT_EQ(later.dest, "");
  EXPECT_TRUE(later.retry);
  EXPECT_NE(later.why.find("short is not enabled"), std::string::npos) << later.why;
}

TEST(RouteQueue, AFullDestinationIsRetriedAndTheWaitingJobIsNotCountedTwice) {
  server::ServerState st;
  add_a_node(st);
  auto& qs = st.queues;
  qs["exec"] = queue("exec", {{"queue_type", "Execution"}, {"enabled", "True"}, {"max_queuable", "1"}});
  qs["route"] = queue("route", {{"queue_type", "Route"}, {"enabled", "True"}, {"route_destinations", "exec"}});
  st.attrs["max_queuable"] = "1";
  server::Submitter alice{"alice", "h1", {}};
  server::Job in_exec = job_asking("00:01:00");
  in_exec.seq = 1;
  in_exec.id = "1.s";
  in_exec.attrs["queue"] = "exec";
  st.jobs[1] = in_exec;
  server::Job waiting = job_asking("00:01:00");
  waiting.seq = 2;
  waiting.id = "2.s";
  waiting.attrs["queue"] = "route";
  st.jobs[2] = waiting;
  server::RouteChoice full = server::route_job(st, qs["route"], alice, waiting);
  EXPECT_EQ(full.dest, "");
  EXPECT_TRUE(full.retry);
  EXPECT_NE(full.why.find("max_queuable = 1"), std::string::npos) << full.why;
  st.jobs[1].attrs["job_state"] = "C";
  // Server max_queuable 1: the waiting job itself is not counted against it.
  EXPECT_EQ(server::route_job(st, qs["route"], alice, waiting).dest, "exec");
}

TEST(NodeHealthCheck, ErrorLinesAndInterval) {
  EXPECT_EQ(mom::health_verdict("all fine\n"), "");
  EXPECT_EQ(mom::health_verdict(""), "");
  EXPECT_EQ(mom::health_verdict("checking\nERROR disk /scratch full, 100%\nmore\n"), "ERROR disk /scratch full  100%");
  EXPECT_EQ(mom::health_verdict("error: lowercase counts too\n"), "error: lowercase counts too");
  EXPECT_EQ(mom::health_verdict("  no ERROR here\n"), "");
  MomConfig c;
  std::string e;
  ASSERT_TRUE(parse_mom_config("$node_check_script /opt/hc.sh\n$node_check_interval 5,jobstart,jobend\n", c, e));
  std::vector<std::string> warnings;
  mom::HealthCheckConfig h = mom::health_check_config(c, warnings);
  EXPECT_EQ(h.script, "/opt/hc.sh");
  EXPECT_EQ(h.every, 5);
  EXPECT_TRUE(h.at_job_start);
  EXPECT_TRUE(h.at_job_end);
  EXPECT_TRUE(h.down_on_error);
  EXPECT_TRUE(warnings.empty());
  MomConfig bad;
  ASSERT_TRUE(parse_mom_config("$node_check_script hc.sh\n$node_check_interval often\n$down_on_error false\n", bad, e));
  h = mom::health_check_config(bad, warnings);
  EXPECT_EQ(h.script, "") << "a relative path never runs";
  EXPECT_EQ(h.every, 1);
  EXPECT_FALSE(h.down_on_error);
  EXPECT_EQ(warnings.size(), 2u);
}

TEST(Accounting, RecordFormatIsTorques) {
  // 2026-01-02 03:04:05 local time.
  tm t{};
  t.tm_year = 126;
  t.tm_mon = 0;
  t.tm_mday = 2;
  t.tm_hour = 3;
  t.tm_min = 4;
  t.tm_sec = 5;
  t.tm_isdst = -1;
  long when = mktime(&t);
  EXPECT_EQ(server::accounting_record(when, 'E', "7.head", "user=alice Exit_status=0"),
            "01/02/2026 03:04:05;E;7.head;user=alice Exit_status=0");
  EXPECT_EQ(server::accounting_file("/h", when), "/h/server_priv/accounting/20260102");
}

TEST(Tracejob, ReadsAccountingAndLogsOfOneJob) {
  std::string acct =
      "12/01/2026 23:59:59;Q;7.head;queue=batch\n"
      "12/02/2026 00:00:01;S;7.head;user=alice queue=batch\n"
      "12/02/2026 00:00:01;S;17.head;user=bob\n"
      "12/02/2026 00:00:09;E;7.head;user=alice Exit_status=0\n"
      "garbage line\n";
  auto a = client::trace_accounting(acct, "7.head");
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].text, "Q    queue=batch");
  EXPECT_EQ(a[2].text, "E    user=alice Exit_status=0");
  std::string log =
      "12/02/2026 00:00:00;Job;7.head;Job Queued at request of alice@head\n"
      "12/02/2026 00:00:05;job 17.head started\n"
      "12/02/2026 00:00:08;job 7.head ended, exit status 0\n";
  auto l = client::trace_log(log, "7.head", 'S');
  ASSERT_EQ(l.size(), 2u) << "17.head is another job";
  std::vector<client::TraceLine> all = a;
  all.insert(all.end(), l.begin(), l.end());
  client::sort_trace(all);
  EXPECT_EQ(all.front().stamp, "12/01/2026 23:59:59");
  EXPECT_EQ(all.back().text, "E    user=alice Exit_status=0");
  EXPECT_EQ(client::full_job_id("7", "head"), "7.head");
  EXPECT_EQ(client::full_job_id("7.head", "other"), "7.head");
}

}  // namespace
}  // namespace reprise
