#include "server/store.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/attr_codec.h"

namespace reprise::server {

namespace {
// A column's bytes as stored, NULs included (sqlite3_column_text stops at the first NUL).
std::string bytes_column(sqlite3_stmt* s, int col) {
  const void* p = sqlite3_column_blob(s, col);
  int n = sqlite3_column_bytes(s, col);
  return p ? std::string(static_cast<const char*>(p), size_t(n)) : std::string();
}
void bind_bytes(sqlite3_stmt* s, int col, const std::string& v) {
  sqlite3_bind_blob(s, col, v.data(), int(v.size()), SQLITE_TRANSIENT);
}
void bind_name(sqlite3_stmt* s, int col, const std::string& v) {
  sqlite3_bind_text(s, col, v.data(), int(v.size()), SQLITE_TRANSIENT);
}

// A row's attrs column: new rows are a BLOB (storage.proto's AttrList, byte-exact); rows
// written before are JSON TEXT, still read so an existing home loads.
Attrs attrs_column(sqlite3_stmt* s, int col) {
  Attrs out;
  if (sqlite3_column_type(s, col) == SQLITE_TEXT) {
    const char* text = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
    return nlohmann::json::parse(text).get<Attrs>();
  }
  if (!decode_attrs(bytes_column(s, col), out)) throw std::runtime_error("an attribute row does not decode");
  return out;
}

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS server(id INTEGER PRIMARY KEY CHECK (id = 1), attrs TEXT NOT NULL,
                                  next_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS queues(name TEXT PRIMARY KEY, attrs TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS nodes(name TEXT PRIMARY KEY, attrs TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs(seq INTEGER PRIMARY KEY, id TEXT NOT NULL, attrs TEXT NOT NULL,
                                script TEXT NOT NULL);
)sql";
}  // namespace

Store::~Store() {
  for (sqlite3_stmt* s : {put_job_, del_job_, put_queue_, del_queue_, put_node_, del_node_, put_server_})
    if (s) sqlite3_finalize(s);
  if (db_) sqlite3_close(db_);
}

sqlite3_stmt* Store::prepare(const char* sql) {
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db_, sql, -1, &s, nullptr);
  return s;
}

bool Store::open(const std::string& path, bool create, std::string& error) {
  struct stat st;
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (create && exists) {
    error = "server database " + path + " already exists; remove it or start without -t create";
    return false;
  }
  if (!create && !exists) {
    error = "no server database at " + path + "; initialise the home with pbs_server -t create";
    return false;
  }
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
    error = "cannot open " + path + ": " + sqlite3_errmsg(db_);
    return false;
  }
  char* msg = nullptr;
  // synchronous=FULL: a commit is on disk before we reply (group commit keeps it cheap).
  const char* setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;";
  if (sqlite3_exec(db_, setup, nullptr, nullptr, &msg) != SQLITE_OK ||
      sqlite3_exec(db_, kSchema, nullptr, nullptr, &msg) != SQLITE_OK) {
    error = std::string("cannot initialise ") + path + ": " + (msg ? msg : "?");
    sqlite3_free(msg);
    return false;
  }
  put_job_ = prepare("INSERT OR REPLACE INTO jobs(seq, id, attrs, script) VALUES (?, ?, ?, ?)");
  del_job_ = prepare("DELETE FROM jobs WHERE seq = ?");
  put_queue_ = prepare("INSERT OR REPLACE INTO queues(name, attrs) VALUES (?, ?)");
  del_queue_ = prepare("DELETE FROM queues WHERE name = ?");
  put_node_ = prepare("INSERT OR REPLACE INTO nodes(name, attrs) VALUES (?, ?)");
  del_node_ = prepare("DELETE FROM nodes WHERE name = ?");
  put_server_ = prepare("INSERT OR REPLACE INTO server(id, attrs, next_seq) VALUES (1, ?, ?)");
  return true;
}

bool Store::load(ServerState& state, std::string& error) {
  state.jobs.clear();
  state.queues.clear();
  state.nodes.clear();
  state.queued.clear();
  state.running.clear();
  state.waiting.clear();
  state.attrs.clear();
  try {
    sqlite3_stmt* s = prepare("SELECT attrs, next_seq FROM server WHERE id = 1");
    if (sqlite3_step(s) == SQLITE_ROW) {
      state.attrs = attrs_column(s, 0);
      state.next_seq = sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    s = prepare("SELECT name, attrs FROM queues");
    while (sqlite3_step(s) == SQLITE_ROW) {
      Queue q;
      q.name = bytes_column(s, 0);
      q.attrs = attrs_column(s, 1);
      state.queues[q.name] = q;
    }
    sqlite3_finalize(s);
    s = prepare("SELECT name, attrs FROM nodes");
    while (sqlite3_step(s) == SQLITE_ROW) {
      Node n;
      n.name = bytes_column(s, 0);
      n.attrs = attrs_column(s, 1);
      state.nodes[n.name] = n;
    }
    sqlite3_finalize(s);
    s = prepare("SELECT seq, id, attrs, script FROM jobs ORDER BY seq");
    while (sqlite3_step(s) == SQLITE_ROW) {
      Job j;
      j.seq = sqlite3_column_int64(s, 0);
      j.id = bytes_column(s, 1);
      j.attrs = attrs_column(s, 2);
      j.script = bytes_column(s, 3);
      if (j.state() == 'Q') state.queued.insert(j.seq);
      if (j.state() == 'R' || j.state() == 'E') state.running.insert(j.seq);
      if (j.attrs.count("_depend_wait")) state.waiting.insert(j.seq);
      state.jobs[j.seq] = std::move(j);
    }
    sqlite3_finalize(s);
  } catch (const std::exception& e) {
    error = std::string("corrupt server database: ") + e.what();
    return false;
  }
  return true;
}

void Store::begin() {
  if (in_txn_) return;
  sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr);
  in_txn_ = true;
  failed_ = false;
}

void Store::exec_write(sqlite3_stmt* stmt) {
  ++writes_;
  int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE && !failed_) {
    failed_ = true;
    failure_ = sqlite3_errmsg(db_);
  }
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
}

void Store::save_server(const ServerState& state) {
  begin();
  bind_bytes(put_server_, 1, encode_attrs(state.attrs));
  sqlite3_bind_int64(put_server_, 2, state.next_seq);
  exec_write(put_server_);
}

void Store::save_job(const Job& job) {
  begin();
  sqlite3_bind_int64(put_job_, 1, job.seq);
  bind_name(put_job_, 2, job.id);
  bind_bytes(put_job_, 3, encode_attrs(job.attrs));
  bind_bytes(put_job_, 4, job.script);
  exec_write(put_job_);
}

void Store::delete_job(long seq) {
  begin();
  sqlite3_bind_int64(del_job_, 1, seq);
  exec_write(del_job_);
}

void Store::save_queue(const Queue& q) {
  begin();
  bind_name(put_queue_, 1, q.name);
  bind_bytes(put_queue_, 2, encode_attrs(q.attrs));
  exec_write(put_queue_);
}

void Store::delete_queue(const std::string& name) {
  begin();
  bind_name(del_queue_, 1, name);
  exec_write(del_queue_);
}

void Store::save_node(const Node& n) {
  begin();
  bind_name(put_node_, 1, n.name);
  bind_bytes(put_node_, 2, encode_attrs(n.attrs));
  exec_write(put_node_);
}

void Store::delete_node(const std::string& name) {
  begin();
  bind_name(del_node_, 1, name);
  exec_write(del_node_);
}

bool Store::commit(std::string& error) {
  if (!in_txn_) return true;
  in_txn_ = false;
  if (!failed_ && sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK) return true;
  error = failed_ ? failure_ : std::string(sqlite3_errmsg(db_));
  sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  failed_ = false;
  return false;
}

}  // namespace reprise::server
