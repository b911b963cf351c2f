// Unit tests of the grammars and the job attribute table that guard root's paths (issue 10).
#include <gtest/gtest.h>

#include <string>

#include "common/names.h"
#include "server/job_attrs.h"

// Names that root daemons put into paths (issue 10, finding 2).
TEST(Names, JobIdsFollowAStrictGrammar) {
  for (const char* ok : {"0.host", "12.node-1.example.com", "7[3].srv", "7[].srv", "123456789.a_b"})
    EXPECT_TRUE(reprise::valid_job_id(ok)) << ok;
  for (const char* bad : {"", "../../../../etc/x", "1./etc", "1.host/../x", "1..", "1.", ".host", "x.host",
                          "1.host\n", "1[2.host", "1.-host", "1.ho st", "1.a..b"})
    EXPECT_FALSE(reprise::valid_job_id(bad)) << bad;
  EXPECT_FALSE(reprise::valid_job_id("1." + std::string(300, 'a')));
}

TEST(Names, FileNamesAndAbsolutePaths) {
  EXPECT_TRUE(reprise::valid_file_name("ckpt.1.host.1733000000"));
  EXPECT_TRUE(reprise::valid_file_name("ckpt.5[3].host.1733000000")) << "an array sub-job's image";
  for (const char* bad : {"", ".", "..", "a/b", "-rf", "a b", "x\n"}) EXPECT_FALSE(reprise::valid_file_name(bad)) << bad;
  for (const char* ok : {"/", "/var/spool/torque/checkpoint", "/a/b.c/d-e"})
    EXPECT_TRUE(reprise::valid_absolute_path(ok)) << ok;
  for (const char* bad : {"", "rel", "/a/../b", "/a/./b", "/a//b", "/a/", "/a\n", "/..", "/."})
    EXPECT_FALSE(reprise::valid_absolute_path(bad)) << bad;
}

// The job attribute table: who may set what (issue 10, findings 1 and 8, and mom reports).
TEST(JobAttrs, TheTableDecidesWhoSetsWhat) {
  using reprise::server::AttrSetter;
  using reprise::server::may_set_job_attr;
  int code;
  std::string e;
  EXPECT_TRUE(may_set_job_attr("checkpoint_dir", "/home/u/ck", AttrSetter::kSubmit, false, code, e));
  EXPECT_FALSE(may_set_job_attr("checkpoint_dir", "/home/u/../../etc", AttrSetter::kSubmit, false, code, e));
  EXPECT_FALSE(may_set_job_attr("checkpoint_name", "../img", AttrSetter::kAlterQueued, false, code, e));
  EXPECT_FALSE(may_set_job_attr("Checkpoint", "enabled,dir=rel", AttrSetter::kSubmit, false, code, e));
  EXPECT_FALSE(may_set_job_attr("submit_host", "elsewhere", AttrSetter::kSubmit, false, code, e));
  EXPECT_FALSE(may_set_job_attr("Job_Owner", "root@x", AttrSetter::kSubmit, false, code, e));
  EXPECT_FALSE(may_set_job_attr("euser", "root", AttrSetter::kAlterQueued, true, code, e));
  EXPECT_FALSE(may_set_job_attr("Job_Name", "a/b", AttrSetter::kSubmit, false, code, e));
  EXPECT_TRUE(may_set_job_attr("Job_Name", "n\xff", AttrSetter::kSubmit, false, code, e)) << "bytes are fine";
  EXPECT_FALSE(may_set_job_attr("Output_Path", "relative", AttrSetter::kSubmit, false, code, e));
  EXPECT_TRUE(may_set_job_attr("Output_Path", "host:/tmp/o", AttrSetter::kSubmit, false, code, e));
  EXPECT_FALSE(may_set_job_attr("Priority", "5000", AttrSetter::kSubmit, false, code, e));
  EXPECT_FALSE(may_set_job_attr("Mail_Points", "xyz", AttrSetter::kSubmit, false, code, e));
  // A running job: only what may change while it runs.
  EXPECT_TRUE(may_set_job_attr("Priority", "3", AttrSetter::kAlterRunning, false, code, e));
  EXPECT_FALSE(may_set_job_attr("Output_Path", "/tmp/o", AttrSetter::kAlterRunning, false, code, e));
  EXPECT_FALSE(may_set_job_attr("Resource_List.walltime", "1:00:00", AttrSetter::kAlterRunning, false, code, e));
  EXPECT_TRUE(may_set_job_attr("Resource_List.walltime", "1:00:00", AttrSetter::kAlterRunning, true, code, e));
  // A mom reports results, never identities, paths or requests.
  EXPECT_TRUE(may_set_job_attr("resources_used.cput", "00:00:01", AttrSetter::kMomReport, false, code, e));
  EXPECT_TRUE(may_set_job_attr("checkpoint_name", "ckpt.1.h.17", AttrSetter::kMomReport, false, code, e));
  for (const char* forged : {"Job_Owner", "euser", "egroup", "Output_Path", "Variable_List", "exec_host",
                             "Resource_List.mem", "queue", "Hold_Types"})
    EXPECT_FALSE(may_set_job_attr(forged, "x", AttrSetter::kMomReport, false, code, e)) << forged;
  EXPECT_FALSE(may_set_job_attr("resources_used.cput", "00:00:01", AttrSetter::kSubmit, false, code, e));
  // Who besides the owner reads what.
  using reprise::server::job_attr_public;
  for (const char* pub : {"Job_Name", "Job_Owner", "job_state", "queue", "Resource_List.nodes", "resources_used.mem"})
    EXPECT_TRUE(job_attr_public(pub)) << pub;
  for (const char* priv : {"Variable_List", "Output_Path", "Error_Path", "submit_args", "init_work_dir", "_depend_wait"})
    EXPECT_FALSE(job_attr_public(priv)) << priv;
}
