// cgroup detection from a mounts table: v1 controllers where they are mounted, v2 only when
// the unified hierarchy really has the memory controller (a hybrid system's has none).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "mom/cgroup.h"
#include "mom/job_limits.h"

using reprise::mom::CgroupSupport;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/reprise-cgroup-XXXXXX";
    path = ::mkdtemp(t);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

TEST(Cgroup, HybridSystemUsesV1ControllersAndIgnoresAnEmptyUnifiedHierarchy) {
  TempDir d;
  std::filesystem::create_directories(d.path + "/unified");
  std::ofstream(d.path + "/unified/cgroup.controllers") << "\n";
  std::ofstream(d.path + "/mounts") << "cgroup /c/memory cgroup rw,relatime,memory 0 0\n"
                                    << "cgroup /c/cpu,cpuacct cgroup rw,relatime,cpu,cpuacct 0 0\n"
                                    << "cgroup /c/cpuset cgroup rw,cpuset 0 0\n"
                                    << "cgroup2 " << d.path << "/unified cgroup2 rw 0 0\n";
  CgroupSupport s = CgroupSupport::detect(d.path + "/mounts");
  EXPECT_FALSE(s.v2);
  EXPECT_EQ(s.v1["memory"], "/c/memory");
  EXPECT_EQ(s.v1["cpuacct"], "/c/cpu,cpuacct");
  EXPECT_EQ(s.v1["cpuset"], "/c/cpuset");
  EXPECT_FALSE(s.has("freezer"));
}

TEST(Cgroup, UnifiedHierarchyWithMemoryIsV2) {
  TempDir d;
  std::ofstream(d.path + "/cgroup.controllers") << "cpuset cpu io memory pids\n";
  std::ofstream(d.path + "/mounts") << "cgroup2 " << d.path << " cgroup2 rw,nsdelegate 0 0\n";
  CgroupSupport s = CgroupSupport::detect(d.path + "/mounts");
  EXPECT_TRUE(s.v2);
  EXPECT_TRUE(s.has("memory"));
  EXPECT_TRUE(s.has("cpuacct")) << "v2's cpu controller accounts CPU";
  EXPECT_TRUE(s.has("cpuset"));
}

TEST(Cgroup, NoCgroupsAtAll) {
  TempDir d;
  std::ofstream(d.path + "/mounts") << "proc /proc proc rw 0 0\n";
  CgroupSupport s = CgroupSupport::detect(d.path + "/mounts");
  EXPECT_FALSE(s.v2);
  EXPECT_TRUE(s.v1.empty());
  EXPECT_FALSE(s.has("memory"));
}

TEST(Cgroup, SlotsOnThisNodeAndParentNames) {
  using reprise::mom::slots_on;
  EXPECT_EQ(slots_on("n1/0+n1/3+n2/0", "n1"), (std::vector<int>{0, 3}));
  EXPECT_EQ(slots_on("n1/0+n2/1", "n2"), (std::vector<int>{1}));
  EXPECT_TRUE(slots_on("n1/0", "n3").empty());
  EXPECT_EQ(reprise::mom::cgroup_parent("/var/spool/torque"), "torque");
  EXPECT_NE(reprise::mom::cgroup_parent("/tmp/a"), reprise::mom::cgroup_parent("/tmp/b"));
}

}  // namespace
