// Durable server state in SQLite (WAL). Writes go into one open transaction per event-loop
// pass; commit() makes them durable before any reply of that pass is sent.
#pragma once
#include <sqlite3.h>

#include <string>

#include "server/state.h"

namespace reprise::server {

class Store {
 public:
  ~Store();
  bool open(const std::string& path, bool create, std::string& error);
  bool load(ServerState& state, std::string& error);

  void save_server(const ServerState& state);
  void save_job(const Job& job);
  void delete_job(long seq);
  void save_queue(const Queue& queue);
  void delete_queue(const std::string& name);
  void save_node(const Node& node);
  void delete_node(const std::string& name);

  bool in_transaction() const { return in_txn_; }
  long writes() const { return writes_; }
  // Commits the open transaction; on failure rolls back and returns false.
  bool commit(std::string& error);

 private:
  void begin();
  void exec_write(sqlite3_stmt* stmt);
  sqlite3_stmt* prepare(const char* sql);

  sqlite3* db_ = nullptr;
  bool in_txn_ = false;
  bool failed_ = false;
  std::string failure_;
  long writes_ = 0;
  sqlite3_stmt* put_job_ = nullptr;
  sqlite3_stmt* del_job_ = nullptr;
  sqlite3_stmt* put_queue_ = nullptr;
  sqlite3_stmt* del_queue_ = nullptr;
  sqlite3_stmt* put_node_ = nullptr;
  sqlite3_stmt* del_node_ = nullptr;
  sqlite3_stmt* put_server_ = nullptr;
};

}  // namespace reprise::server
