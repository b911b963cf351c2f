// Unit tests of byte-exact transport and storage (issue 10, finding 7): every byte value,
// including ones that are never UTF-8, survives the wire, the server's database, the mom's job
// records and Variable_List; JSON output escapes what JSON cannot hold.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "client/qstat_format.h"
#include "common/attr_codec.h"
#include "common/job_env.h"
#include "common/text_util.h"
#include "common/wire.h"
#include "mom/job_record.h"
#include "reprise.pb.h"
#include "server/store.h"

using namespace reprise;

namespace {

// Every byte value 0..255, and Latin-1 text.
std::string all_bytes() {
  std::string s;
  for (int i = 0; i < 256; ++i) s += char(i);
  return s;
}
const std::string kLatin1 = "caf\xe9 \xff";

class TempDir {
 public:
  TempDir() {
    char t[] = "/tmp/reprise-bytes-XXXXXX";
    path_ = ::mkdtemp(t) ? t : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

TEST(ByteExact, WireCarriesNonUtf8InEveryUserField) {
  wire::Request r;
  r.set_version(kProtocolVersion);
  r.set_op("submit");
  r.add_ids("1\xff");
  (*r.mutable_attrs())["Job_Name"] = "n\xff";
  r.set_script("echo '" + kLatin1 + "'\n");
  r.set_arg(all_bytes());
  r.set_objname(kLatin1);
  r.add_ops()->set_value(kLatin1);
  wire::Request back;
  ASSERT_TRUE(back.ParseFromString(encode_frame(r).substr(4)));
  EXPECT_EQ(back.ids(0), "1\xff");
  EXPECT_EQ(back.attrs().at("Job_Name"), "n\xff");
  EXPECT_EQ(back.script(), r.script());
  EXPECT_EQ(back.arg(), all_bytes());
  EXPECT_EQ(back.objname(), kLatin1);
  EXPECT_EQ(back.ops(0).value(), kLatin1);

  wire::Response resp;
  resp.set_error("Unknown Job Id 1\xff");
  resp.set_text(kLatin1);
  wire::Object* o = resp.add_objects();
  o->set_name("1\xff");
  (*o->mutable_attrs())["Job_Name"] = "n\xff";
  o->add_values(kLatin1);
  wire::Response rback;
  ASSERT_TRUE(rback.ParseFromString(resp.SerializeAsString()));
  EXPECT_EQ(rback.error(), resp.error());
  EXPECT_EQ(rback.objects(0).attrs().at("Job_Name"), "n\xff");
  EXPECT_EQ(rback.objects(0).values(0), kLatin1);

  wire::MomCommand cmd;
  cmd.set_id("1\xff");
  cmd.set_script(kLatin1);
  cmd.set_arg(kLatin1);
  (*cmd.mutable_attrs())["Variable_List"] = "A=" + kLatin1;
  wire::MomCommand cback;
  ASSERT_TRUE(cback.ParseFromString(cmd.SerializeAsString()));
  EXPECT_EQ(cback.script(), kLatin1);
  EXPECT_EQ(cback.attrs().at("Variable_List"), "A=" + kLatin1);
}

TEST(ByteExact, AttrCodecRoundTripsEveryByte) {
  AttrMap a = {{all_bytes(), all_bytes()}, {"Job_Name", "n\xff"}, {"empty", ""}, {std::string("\0", 1), kLatin1}};
  AttrMap back;
  ASSERT_TRUE(decode_attrs(encode_attrs(a), back));
  EXPECT_EQ(back, a);
  ASSERT_TRUE(decode_attrs(encode_attrs({}), back));
  EXPECT_TRUE(back.empty());
  EXPECT_FALSE(decode_attrs("\x0a\x05" "ab", back)) << "a truncated record must not load";
}

TEST(ByteExact, ServerDatabaseKeepsEveryByte) {
  TempDir dir;
  std::string db = dir.path() + "/serverdb.sqlite", error;
  server::ServerState st;
  st.attrs = {{"comment", kLatin1}, {"odd", all_bytes()}};
  st.next_seq = 8;
  server::Job job;
  job.seq = 7;
  job.id = "7.host";
  job.attrs = {{"Job_Name", "n\xff"}, {"Variable_List", "A=" + all_bytes()}, {"job_state", "Q"}};
  job.script = std::string("echo '") + kLatin1 + "'\n" + std::string("\0tail", 5);
  server::Queue q{"batch", {{"comment", kLatin1}}};
  server::Node n;
  n.name = "node1";
  n.attrs = {{"note", kLatin1}};
  {
    server::Store s;
    ASSERT_TRUE(s.open(db, true, error)) << error;
    s.save_server(st);
    s.save_job(job);
    s.save_queue(q);
    s.save_node(n);
    ASSERT_TRUE(s.commit(error)) << error;
  }
  server::Store s;
  ASSERT_TRUE(s.open(db, false, error)) << error;
  server::ServerState back;
  ASSERT_TRUE(s.load(back, error)) << error;
  EXPECT_EQ(back.attrs, st.attrs);
  EXPECT_EQ(back.next_seq, 8);
  ASSERT_EQ(back.jobs.count(7), 1u);
  EXPECT_EQ(back.jobs[7].id, "7.host");
  EXPECT_EQ(back.jobs[7].attrs, job.attrs);
  EXPECT_EQ(back.jobs[7].script, job.script) << "the script with its NUL and Latin-1 bytes";
  EXPECT_EQ(back.queues["batch"].attrs, q.attrs);
  EXPECT_EQ(back.nodes["node1"].attrs, n.attrs);
}

TEST(ByteExact, ServerDatabaseStillReadsJsonRowsOfAnOlderServer) {
  TempDir dir;
  std::string db = dir.path() + "/serverdb.sqlite", error;
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  // The schema and rows as the JSON-storing server wrote them.
  const char* old = R"sql(
CREATE TABLE server(id INTEGER PRIMARY KEY CHECK (id = 1), attrs TEXT NOT NULL, next_seq INTEGER NOT NULL);
CREATE TABLE queues(name TEXT PRIMARY KEY, attrs TEXT NOT NULL);
CREATE TABLE nodes(name TEXT PRIMARY KEY, attrs TEXT NOT NULL);
CREATE TABLE jobs(seq INTEGER PRIMARY KEY, id TEXT NOT NULL, attrs TEXT NOT NULL, script TEXT NOT NULL);
INSERT INTO server VALUES (1, '{"default_queue":"batch","comment":"caf\u00e9"}', 3);
INSERT INTO queues VALUES ('batch', '{"enabled":"True"}');
INSERT INTO nodes VALUES ('node1', '{"np":"2"}');
INSERT INTO jobs VALUES (2, '2.host', '{"Job_Name":"old","job_state":"H"}', 'echo old');
)sql";
  ASSERT_EQ(sqlite3_exec(raw, old, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(raw);
  sqlite3_close(raw);

  server::Store s;
  ASSERT_TRUE(s.open(db, false, error)) << error;
  server::ServerState st;
  ASSERT_TRUE(s.load(st, error)) << error;
  EXPECT_EQ(st.attrs["comment"], "caf\xc3\xa9");
  EXPECT_EQ(st.next_seq, 3);
  EXPECT_EQ(st.queues["batch"].attrs["enabled"], "True");
  EXPECT_EQ(st.nodes["node1"].attrs["np"], "2");
  EXPECT_EQ(st.jobs[2].attrs["Job_Name"], "old");
  EXPECT_EQ(st.jobs[2].script, "echo old");
  // New rows (byte-exact) sit next to old ones; a rewritten old row takes the new form.
  server::Job j;
  j.seq = 3;
  j.id = "3.host";
  j.attrs = {{"Job_Name", "n\xff"}};
  j.script = kLatin1;
  s.save_job(j);
  st.jobs[2].attrs["comment"] = kLatin1;
  s.save_job(st.jobs[2]);
  ASSERT_TRUE(s.commit(error)) << error;
  server::ServerState again;
  ASSERT_TRUE(s.load(again, error)) << error;
  EXPECT_EQ(again.jobs[2].attrs["comment"], kLatin1);
  EXPECT_EQ(again.jobs[2].script, "echo old");
  EXPECT_EQ(again.jobs[3].attrs, j.attrs);
  EXPECT_EQ(again.jobs[3].script, kLatin1);
}

TEST(ByteExact, MomJobRecordKeepsEveryByte) {
  TempDir dir;
  mom::JobRecord r;
  r.id = "5.host";
  r.attrs = {{"Job_Name", "n\xff"}, {"Variable_List", "A=" + all_bytes()}};
  r.supervisor = 1234;
  r.supervisor_start = 987654321012ull;
  r.session = 4321;
  r.start_time = 1700000000;
  r.walltime_limit = 3600;
  r.kill_deadline = 1700000099;
  r.finished = true;
  r.exit_status = -3;
  r.used = {{"comment", kLatin1}};
  std::string error;
  ASSERT_TRUE(mom::save_record(dir.path(), r, error)) << error;
  mom::JobRecord back;
  ASSERT_TRUE(mom::load_record(mom::record_path(dir.path(), r.id, ".JB"), back));
  EXPECT_EQ(back.id, r.id);
  EXPECT_EQ(back.attrs, r.attrs);
  EXPECT_EQ(back.supervisor, r.supervisor);
  EXPECT_EQ(back.supervisor_start, r.supervisor_start);
  EXPECT_EQ(back.session, r.session);
  EXPECT_EQ(back.start_time, r.start_time);
  EXPECT_EQ(back.walltime_limit, r.walltime_limit);
  EXPECT_EQ(back.kill_deadline, r.kill_deadline);
  EXPECT_EQ(back.finished, r.finished);
  EXPECT_EQ(back.exit_status, r.exit_status);
  EXPECT_EQ(back.used, r.used);
  // A damaged record is refused, not half-loaded.
  ASSERT_TRUE(write_file_atomic(dir.path() + "/bad.JB", "\x0a\x40" "5.host", 0600, error));
  EXPECT_FALSE(mom::load_record(dir.path() + "/bad.JB", back));
}

TEST(ByteExact, MomStillReadsJsonRecordsOfAnOlderMom) {
  TempDir dir;
  std::string error;
  std::string json = R"({"id":"6.host","attrs":{"Job_Name":"old"},"supervisor":11,"supervisor_start":22,)"
                     R"("session":33,"start_time":44,"walltime_limit":55,"kill_deadline":66,"finished":false,)"
                     R"("exit_status":0,"used":{"resources_used.mem":"1kb"}})";
  ASSERT_TRUE(write_file_atomic(dir.path() + "/6.host.JB", json, 0600, error));
  mom::JobRecord r;
  ASSERT_TRUE(mom::load_record(dir.path() + "/6.host.JB", r));
  EXPECT_EQ(r.id, "6.host");
  EXPECT_EQ(r.attr("Job_Name"), "old");
  EXPECT_EQ(r.supervisor, 11);
  EXPECT_EQ(r.supervisor_start, 22u);
  EXPECT_EQ(r.session, 33);
  EXPECT_EQ(r.kill_deadline, 66);
  EXPECT_EQ(r.used["resources_used.mem"], "1kb");
}

TEST(ByteExact, VariableListAndJobEnvironmentCarryBytesExactly) {
  VarList v = {{"L1", kLatin1 + ",x\\y"}, {"ALL", all_bytes().substr(1)}};  // no NUL in an environment
  EXPECT_EQ(decode_variable_list(encode_variable_list(v)), v);
  std::map<std::string, std::string> attrs = {{"Job_Name", "n\xff"}, {"Variable_List", encode_variable_list(v)}};
  JobExecContext ctx;
  auto env = build_job_environment(attrs, ctx);
  auto has = [&](const std::string& kv) { return std::find(env.begin(), env.end(), kv) != env.end(); };
  EXPECT_TRUE(has("L1=" + kLatin1 + ",x\\y"));
  EXPECT_TRUE(has("ALL=" + all_bytes().substr(1)));
  EXPECT_TRUE(has("PBS_JOBNAME=n\xff"));
}

TEST(ByteExact, JsonEscapesOnlyWhatIsNotUtf8) {
  using client::json_safe;
  EXPECT_EQ(json_safe("plain \\ text"), "plain \\ text");
  EXPECT_EQ(json_safe("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  EXPECT_EQ(json_safe(kLatin1), "caf\\xe9 \\xff");
  EXPECT_EQ(json_safe("\xc3"), "\\xc3") << "truncated sequence";
  EXPECT_EQ(json_safe("\xc0\x80"), "\\xc0\\x80") << "overlong NUL";
  EXPECT_EQ(json_safe("\xed\xa0\x80"), "\\xed\\xa0\\x80") << "UTF-16 surrogate";
  EXPECT_EQ(json_safe("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80") << "above U+10FFFF";
  EXPECT_EQ(json_safe("\xe2\x82"), "\\xe2\\x82");

  wire::Object o;
  o.set_name("1\xff.host");
  (*o.mutable_attrs())["Job_Name"] = "n\xff";
  (*o.mutable_attrs())["Resource_List.walltime"] = "01:00:00";
  (*o.mutable_attrs())["Variable_List"] = "A=" + all_bytes().substr(1);
  std::string out = client::format_json({o}, "Jobs", "h\xe9");
  auto j = nlohmann::json::parse(out);  // throws if the output is not valid JSON / UTF-8
  EXPECT_EQ(j["pbs_server"], "h\\xe9");
  EXPECT_EQ(j["Jobs"]["1\\xff.host"]["Job_Name"], "n\\xff");
  EXPECT_EQ(j["Jobs"]["1\\xff.host"]["Resource_List"]["walltime"], "01:00:00");
}
