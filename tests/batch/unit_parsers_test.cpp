// Unit tests of the parsers that face users and the network.
#include <gtest/gtest.h>

#include <algorithm>

#include "client/qmgr_parse.h"
#include "client/qstat_format.h"
#include "client/submit_options.h"
#include "common/checkpoint_policy.h"
#include "common/directives.h"
#include "common/job_env.h"
#include "common/pbs_home.h"
#include "common/resources.h"
#include "common/wire.h"
#include "mom/checkpoint.h"
#include "reprise.pb.h"

using namespace reprise;

TEST(Resources, Durations) {
  long s;
  EXPECT_TRUE(parse_duration("1:00:00", s));
  EXPECT_EQ(s, 3600);
  EXPECT_TRUE(parse_duration("1:30", s));
  EXPECT_EQ(s, 90);
  EXPECT_TRUE(parse_duration("45", s));
  EXPECT_EQ(s, 45);
  EXPECT_FALSE(parse_duration("abc", s));
  // TORQUE's [[DD:]HH:]MM:SS: a fourth field counts days.
  EXPECT_TRUE(parse_duration("1:02:00:00", s));
  EXPECT_EQ(s, 26 * 3600);
  EXPECT_TRUE(parse_duration("2:00:00:30", s));
  EXPECT_EQ(s, 2 * 86400 + 30);
  EXPECT_EQ(format_duration(26 * 3600), "26:00:00");
  EXPECT_FALSE(parse_duration("1:2:3:4:5", s));
  EXPECT_FALSE(parse_duration("1::00:00", s));
  EXPECT_FALSE(parse_duration("-5", s));
  EXPECT_FALSE(parse_duration("", s));
  EXPECT_EQ(format_duration(3725), "01:02:05");
}

TEST(Resources, Sizes) {
  uint64_t b;
  EXPECT_TRUE(parse_size("512mb", b));
  EXPECT_EQ(b, 512ull << 20);
  EXPECT_TRUE(parse_size("2GB", b));
  EXPECT_EQ(b, 2ull << 30);
  EXPECT_TRUE(parse_size("100", b));
  EXPECT_EQ(b, 100u);
  EXPECT_FALSE(parse_size("mb", b));
  EXPECT_FALSE(parse_size("12xb", b));
  EXPECT_FALSE(parse_size("99999999999999999999", b));
}

TEST(Resources, NodeSpecs) {
  std::vector<NodeSpecPart> p;
  std::string e;
  ASSERT_TRUE(parse_node_spec("2:ppn=4", p, e));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].count, 2);
  EXPECT_EQ(p[0].ppn, 4);
  ASSERT_TRUE(parse_node_spec("node1:ppn=2+3", p, e));
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].host, "node1");
  EXPECT_EQ(p[1].count, 3);
  EXPECT_FALSE(parse_node_spec("0", p, e));
  EXPECT_FALSE(parse_node_spec("2:ppn=0", p, e));
  EXPECT_FALSE(parse_node_spec("2:ppn=x", p, e));
  EXPECT_FALSE(parse_node_spec("", p, e));
  EXPECT_FALSE(parse_node_spec("a b", p, e));
}

TEST(Resources, ResourceLists) {
  std::map<std::string, std::string> r;
  std::string e;
  ASSERT_TRUE(parse_resource_list("walltime=1:00,nodes=2:ppn=1,mem=1gb", r, e)) << e;
  EXPECT_EQ(r["walltime"], "1:00");
  EXPECT_EQ(r["nodes"], "2:ppn=1");
  EXPECT_FALSE(parse_resource_list("walltime", r, e));
  EXPECT_FALSE(parse_resource_list("bogus=1", r, e));
  EXPECT_NE(e.find("Unknown resource"), std::string::npos);
  EXPECT_FALSE(parse_resource_list("walltime=", r, e));
}

TEST(Directives, CollectsOptionsUntilFirstCommand) {
  std::vector<std::string> w;
  std::string e;
  ASSERT_TRUE(parse_pbs_directives("#!/bin/sh\n#PBS -N job  # comment\n\n#PBS -l walltime=1:00 -j oe\n"
                                   "# other comment\n#PBSX -q nope\necho hi\n#PBS -q late\n",
                                   "#PBS", w, e));
  EXPECT_EQ(w, (std::vector<std::string>{"-N", "job", "-l", "walltime=1:00", "-j", "oe"}));
  w.clear();
  ASSERT_TRUE(parse_pbs_directives("#PBS -N \"two words\"\n", "#PBS", w, e));
  EXPECT_EQ(w[1], "two words");
  w.clear();
  EXPECT_FALSE(parse_pbs_directives("#PBS -N 'open\n", "#PBS", w, e));
  EXPECT_NE(e.find("line 1"), std::string::npos);
  EXPECT_FALSE(parse_pbs_directives("\n#PBS walltime\n", "#PBS", w, e));
  EXPECT_NE(e.find("line 2"), std::string::npos);
  w.clear();
  ASSERT_TRUE(parse_pbs_directives("#MY -N x\n", "#MY", w, e));
  EXPECT_EQ(w.size(), 2u);
}

TEST(SubmitOptions, MapsToAttributes) {
  client::Submission s;
  std::string e;
  ASSERT_TRUE(client::apply_submit_options({"qsub", "-N", "n", "-o", "out", "-e", "h:/abs/err", "-j", "oe",
                                            "-l", "walltime=10", "-h", "-W", "depend=afterok:1.h:2.h",
                                            "-c", "enabled,interval=5", "-r", "n", "script.sh"},
                                           "/work", s, e))
      << e;
  EXPECT_EQ(s.attrs["Job_Name"], "n");
  EXPECT_NE(s.attrs["Output_Path"].find(":/work/out"), std::string::npos);
  EXPECT_EQ(s.attrs["Error_Path"], "h:/abs/err");
  EXPECT_EQ(s.attrs["Hold_Types"], "u");
  EXPECT_EQ(s.attrs["depend"], "afterok:1.h:2.h");
  EXPECT_EQ(s.attrs["Checkpoint"], "enabled,interval=5");
  EXPECT_EQ(s.attrs["Rerunable"], "False");
  EXPECT_EQ(s.resources["walltime"], "00:00:10") << "times are shown as TORQUE shows them";
  EXPECT_EQ(s.operands, std::vector<std::string>{"script.sh"});
  client::Submission bad;
  EXPECT_FALSE(client::apply_submit_options({"qsub", "-N", "a/b"}, "/", bad, e));
  EXPECT_FALSE(client::apply_submit_options({"qsub", "-l"}, "/", bad, e));
  EXPECT_NE(e.find("requires an argument"), std::string::npos);
  EXPECT_FALSE(client::apply_submit_options({"qsub", "-W", "stagein=x"}, "/", bad, e));
  EXPECT_FALSE(client::valid_checkpoint_option("interval=x", e));
  EXPECT_TRUE(client::valid_checkpoint_option("c=10", e));
  EXPECT_TRUE(client::valid_checkpoint_option("shutdown,depth=3,dir=/tmp/x", e));
  EXPECT_FALSE(client::valid_checkpoint_option("dir=relative", e));
}

TEST(Qmgr, ParsesTorqueCommands) {
  client::QmgrCommand c;
  std::string e;
  ASSERT_TRUE(client::parse_qmgr("set server scheduling = true", c, e)) << e;
  EXPECT_EQ(c.command, "set");
  EXPECT_EQ(c.objtype, "server");
  EXPECT_EQ(c.name, "");
  ASSERT_EQ(c.attrs.size(), 1u);
  EXPECT_EQ(c.attrs[0].name, "scheduling");
  EXPECT_EQ(c.attrs[0].value, "true");
  c = {};
  ASSERT_TRUE(client::parse_qmgr("s q batch checkpoint_dir=/tmp, resources_default.walltime=1:00", c, e)) << e;
  EXPECT_EQ(c.objtype, "queue");
  EXPECT_EQ(c.name, "batch");
  ASSERT_EQ(c.attrs.size(), 2u);
  EXPECT_EQ(c.attrs[1].name, "resources_default.walltime");
  c = {};
  ASSERT_TRUE(client::parse_qmgr("set server managers += bob@*", c, e));
  EXPECT_EQ(c.attrs[0].op, 1);
  EXPECT_EQ(c.attrs[0].value, "bob@*");
  c = {};
  ASSERT_TRUE(client::parse_qmgr("create node node-1 np=4", c, e));
  EXPECT_EQ(c.name, "node-1");
  c = {};
  ASSERT_TRUE(client::parse_qmgr("unset server acl_roots", c, e));
  EXPECT_EQ(c.attrs[0].name, "acl_roots");
  c = {};
  ASSERT_TRUE(client::parse_qmgr("list queue", c, e));
  EXPECT_FALSE(client::parse_qmgr("explode server", c, e));
  c = {};
  EXPECT_FALSE(client::parse_qmgr("set queue", c, e));
  c = {};
  EXPECT_FALSE(client::parse_qmgr("set server scheduling", c, e));
  c = {};
  EXPECT_FALSE(client::parse_qmgr("set queue batch bad name = 1", c, e));
}

TEST(JobEnv, VariableListRoundTripsCommasAndBackslashes) {
  VarList v = {{"A", "1,2"}, {"B", "x\\y"}, {"C", ""}};
  EXPECT_EQ(decode_variable_list(encode_variable_list(v)), v);
  std::map<std::string, std::string> attrs = {{"Job_Name", "j"}, {"queue", "q"},
                                              {"Variable_List", encode_variable_list({{"PBS_O_WORKDIR", "/w"}})}};
  JobExecContext ctx;
  ctx.job_id = "1.h";
  ctx.user = "u";
  auto env = build_job_environment(attrs, ctx);
  auto has = [&](const std::string& kv) { return std::find(env.begin(), env.end(), kv) != env.end(); };
  EXPECT_TRUE(has("PBS_JOBID=1.h"));
  EXPECT_TRUE(has("PBS_JOBNAME=j"));
  EXPECT_TRUE(has("PBS_QUEUE=q"));
  EXPECT_TRUE(has("PBS_O_WORKDIR=/w"));
  EXPECT_TRUE(has("PBS_ENVIRONMENT=PBS_BATCH"));
}

TEST(Wire, FrameReaderHandlesPartialOversizedAndMultipleFrames) {
  wire::Request r;
  r.set_version(kProtocolVersion);
  r.set_op("status_job");
  std::string f = encode_frame(r) + encode_frame(r);
  FrameReader reader;
  std::string frame, error;
  reader.feed(f.data(), 3);
  EXPECT_EQ(reader.next(frame, error), FrameReader::kNeedMore);
  reader.feed(f.data() + 3, f.size() - 3);
  ASSERT_EQ(reader.next(frame, error), FrameReader::kFrame);
  wire::Request back;
  ASSERT_TRUE(back.ParseFromString(frame));
  EXPECT_EQ(back.op(), "status_job");
  EXPECT_EQ(reader.next(frame, error), FrameReader::kFrame);
  EXPECT_EQ(reader.next(frame, error), FrameReader::kNeedMore);
  FrameReader big;
  big.feed("\x01\x00\x00\x01", 4);
  EXPECT_EQ(big.next(frame, error), FrameReader::kError);
  EXPECT_NE(error.find("exceeds"), std::string::npos);
}

TEST(MomConfig, ParsesDirectives) {
  MomConfig c;
  std::string e;
  ASSERT_TRUE(parse_mom_config("# c\n$pbsserver head:15011\n$loglevel 7\n$checkpoint_run_exe /usr/bin/cr_run\n", c, e)) << e;
  EXPECT_EQ(c.server_host, "head");
  EXPECT_EQ(c.server_port, 15011);
  EXPECT_EQ(c.loglevel, 7);
  EXPECT_EQ(c.values["checkpoint_run_exe"], "/usr/bin/cr_run");
  MomConfig d;
  // An unknown directive is a warning (logged by the mom), never fatal (issue 14).
  EXPECT_TRUE(parse_mom_config("$bogus 1\n", d, e)) << e;
  ASSERT_EQ(d.warnings.size(), 1u);
  EXPECT_NE(d.warnings[0].find("unknown directive $bogus"), std::string::npos) << d.warnings[0];
  EXPECT_FALSE(parse_mom_config("$pbsserver host:notaport\n", d, e));
}

TEST(MomConfig, CheckpointExternalSockets) {
  MomConfig c;
  std::string e;
  ASSERT_TRUE(parse_mom_config("$checkpoint_external_sockets closed\n", c, e)) << e;
  EXPECT_EQ(c.values["checkpoint_external_sockets"], "closed");
  MomConfig d;
  EXPECT_FALSE(parse_mom_config("$checkpoint_external_sockets maybe\n", d, e));
  EXPECT_NE(e.find("'refuse' or 'closed'"), std::string::npos) << e;
}

TEST(MomConfig, CheckpointClock) {
  MomConfig c;
  std::string e;
  ASSERT_TRUE(parse_mom_config("$checkpoint_clock host\n", c, e)) << e;
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(c.values["checkpoint_clock"], "host");
  MomConfig d;
  EXPECT_FALSE(parse_mom_config("$checkpoint_clock frozen\n", d, e));
  EXPECT_NE(e.find("'continue' or 'host'"), std::string::npos) << e;
  EXPECT_EQ(reprise::mom::restart_clock_flags(c), std::vector<std::string>{"--clock=host"});
  MomConfig unset;
  EXPECT_TRUE(reprise::mom::restart_clock_flags(unset).empty());
}

TEST(CheckpointPolicy, RewrittenFilesPolicyAndLimit) {
  EXPECT_TRUE(valid_checkpoint_value("periodic,rewritten_files=refuse"));
  EXPECT_TRUE(valid_checkpoint_value("enabled,rewritten_files=keep-current,rewritten_limit=128mb"));
  EXPECT_FALSE(valid_checkpoint_value("enabled,rewritten_files=maybe"));
  EXPECT_FALSE(valid_checkpoint_value("enabled,rewritten_limit=1gb"));  // over the engine's 200mb
  EXPECT_FALSE(valid_checkpoint_value("enabled,rewritten_limit=lots"));
  CheckpointPolicy p = parse_checkpoint_policy("enabled,rewritten_files=refuse,rewritten_limit=100mb");
  EXPECT_EQ(p.rewritten_files, "refuse");
  EXPECT_EQ(p.rewritten_limit, 100ull << 20);
  EXPECT_EQ(reprise::mom::rewritten_files_flags(p),
            (std::vector<std::string>{"--rewritten-files=refuse", "--rewritten-limit=104857600"}));
  EXPECT_TRUE(reprise::mom::rewritten_files_flags(parse_checkpoint_policy("enabled")).empty());
}

TEST(QstatFormat, DefaultTableColumns) {
  wire::Object o;
  o.set_name("12.server");
  (*o.mutable_attrs())["Job_Name"] = "averyveryverylongjobname";
  (*o.mutable_attrs())["Job_Owner"] = "alice@host";
  (*o.mutable_attrs())["job_state"] = "R";
  (*o.mutable_attrs())["queue"] = "batch";
  std::string t = client::format_job_table({o});
  EXPECT_NE(t.find("12.server                 averyveryverylon alice                  0 R batch\n"), std::string::npos) << t;
  EXPECT_EQ(client::format_job_table({}), "");
}

// The table is built without printf (qstat prints 10,000 rows); it must match what
// "%-25s %-16s %-15s %8s %1s %-5s\n" over the cut fields printed, byte for byte.
TEST(QstatFormat, RowsMatchPrintfFormat) {
  auto reference = [](const std::string& id, const std::string& name, const std::string& owner,
                      const std::string& cput, const std::string& state, const std::string& queue) {
    auto fit = [](const std::string& s, size_t w) { return s.size() > w ? s.substr(0, w) : s; };
    char buf[1024];
    std::snprintf(buf, sizeof buf, "%-25s %-16s %-15s %8s %1s %-5s\n", fit(id, 25).c_str(), fit(name, 16).c_str(),
                  fit(owner.substr(0, owner.find('@')), 15).c_str(), cput.empty() ? "0" : cput.c_str(),
                  state.empty() ? "?" : state.c_str(), queue.c_str());
    return std::string(buf);
  };
  struct Case {
    std::string id, name, owner, cput, state, queue;
  };
  std::vector<Case> cases = {
      {"0.host", "STDIN", "alice@host", "", "Q", "batch"},
      {"12345678901234567890.averylongservername", "averyveryverylongjobname", "averyveryverylongusername@h",
       "123:45:06", "R", "averylongqueuename"},
      {"7.h", "", "", "", "", ""},
      {"8.h", "n", "bob", "00:00:01", "C", "q"},
      {"9.h", std::string("nul\0name", 8), "carol@x@y", "1", "HX", "debug"},
      {"10.h", "x", "u@h", std::string(2000, '9'), "Q", "batch"},  // printf's 1023-byte cap
  };
  for (const auto& k : cases) {
    wire::Object o;
    o.set_name(k.id);
    auto& a = *o.mutable_attrs();
    for (auto [n, v] : {std::pair<const char*, const std::string*>{"Job_Name", &k.name}, {"Job_Owner", &k.owner},
                        {"resources_used.cput", &k.cput}, {"job_state", &k.state}, {"queue", &k.queue}})
      if (!v->empty()) a[n] = *v;
    std::string header = "Job id                    Name             User            Time Use S Queue\n"
                         "------------------------- ---------------- --------------- -------- - -----\n";
    EXPECT_EQ(client::format_job_table({o}), header + reference(k.id, k.name, k.owner, k.cput, k.state, k.queue))
        << k.id;
    std::vector<client::JobRow> rows = {{k.id, k.name, k.owner, k.cput, k.state, k.queue}};
    EXPECT_EQ(client::format_job_rows(rows), client::format_job_table({o})) << k.id;
  }
  EXPECT_EQ(client::format_job_rows({}), "");
}

