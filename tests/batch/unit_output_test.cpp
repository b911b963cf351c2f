// Pure pieces of issue 13 item 4: which jobs the cluster could ever fit, and the default
// output file names the mom puts in a directory.
#include <gtest/gtest.h>

#include "mom/job_output.h"
#include "server/feasibility.h"

using namespace reprise;

namespace {

server::ServerState cluster(const std::vector<std::pair<int, std::string>>& nodes) {
  server::ServerState st;
  int i = 0;
  for (const auto& [np, physmem] : nodes) {
    server::Node n;
    n.name = "n" + std::to_string(i++);
    n.attrs["np"] = std::to_string(np);
    if (!physmem.empty()) n.mom_status["physmem"] = physmem;
    st.nodes[n.name] = n;
  }
  return st;
}

bool fits(const server::ServerState& st, const std::string& nodes, const std::string& mem = "") {
  server::Job j;
  if (!nodes.empty()) j.attrs["Resource_List.nodes"] = nodes;
  if (!mem.empty()) j.attrs["Resource_List.mem"] = mem;
  return server::nodes_could_fit(st, j);
}

TEST(Feasibility, NodeCountsAndPpn) {
  auto st = cluster({{4, ""}, {2, ""}});
  EXPECT_TRUE(fits(st, ""));
  EXPECT_TRUE(fits(st, "2"));
  EXPECT_FALSE(fits(st, "3"));
  EXPECT_FALSE(fits(st, "5"));
  EXPECT_TRUE(fits(st, "1:ppn=4"));
  EXPECT_FALSE(fits(st, "1:ppn=5"));
  EXPECT_FALSE(fits(st, "2:ppn=3")) << "only one node has 3 slots";
  EXPECT_TRUE(fits(st, "1:ppn=4+1:ppn=2"));
  EXPECT_TRUE(fits(st, "1:ppn=2+1:ppn=4")) << "order in the spec does not matter";
  EXPECT_FALSE(fits(st, "1:ppn=3+1:ppn=3"));
  EXPECT_TRUE(fits(st, "n1:ppn=2"));
  EXPECT_FALSE(fits(st, "n1:ppn=3"));
  EXPECT_FALSE(fits(st, "nosuch"));
  EXPECT_FALSE(fits(st, "n0:ppn=4+1:ppn=3")) << "the named node is taken; the other has 2";
  EXPECT_TRUE(fits(st, "n0:ppn=1+1:ppn=2"));
  EXPECT_FALSE(fits(cluster({}), "1")) << "no nodes at all";
}

TEST(Feasibility, MemoryOnlyWhereTheNodesReportIt) {
  EXPECT_TRUE(fits(cluster({{1, ""}}), "1", "100tb")) << "unknown memory may fit";
  auto st = cluster({{2, "1048576kb"}, {2, "2097152kb"}});
  EXPECT_TRUE(fits(st, "1", "2gb"));
  EXPECT_FALSE(fits(st, "1", "3gb"));
  EXPECT_TRUE(fits(st, "2", "2gb")) << "mem is shared over the nodes";
  EXPECT_FALSE(fits(st, "2", "5gb"));
}

TEST(OutputNames, DefaultNamesOfJobsAndSubJobs) {
  mom::JobRecord job;
  job.id = "12.server";
  EXPECT_EQ(mom::default_output_name(job, 'o'), "STDIN.o12");
  job.attrs["Job_Name"] = "run";
  EXPECT_EQ(mom::default_output_name(job, 'e'), "run.e12");
  job.id = "12[3].server.example";
  EXPECT_EQ(mom::default_output_name(job, 'o'), "run.o12-3");
}

TEST(OutputNames, SupervisorNoteRoundTrip) {
  mom::JobOutputs o;
  o.undelivered = "Output undelivered: cannot write /x (Permission denied), stdout kept in /h/undelivered/1.s.OU";
  o.out_file = "/h/undelivered/1.s.OU";
  o.err_file = "/w/run.e1";
  mom::JobRecord job;
  mom::apply_output_note(mom::encode_output_note(o), job);
  EXPECT_EQ(job.used["comment"], o.undelivered);
  EXPECT_EQ(job.attr("_output_file"), o.out_file);
  EXPECT_EQ(job.attr("_error_file"), o.err_file);
  mom::JobRecord quiet;
  o.undelivered.clear();
  mom::apply_output_note(mom::encode_output_note(o), quiet);
  EXPECT_EQ(quiet.used.count("comment"), 0u) << "no comment when everything was delivered";
}

}  // namespace
