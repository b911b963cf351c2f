#include "client/qmgr_parse.h"

#include <map>

#include "common/text_util.h"

namespace reprise::client {

namespace {

bool expand(const std::string& word, const std::map<std::string, std::string>& table, std::string& out) {
  auto it = table.find(word);
  if (it == table.end()) return false;
  out = it->second;
  return true;
}

// Splits on commas outside double quotes.
std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false;
  for (char c : s) {
    if (c == '"') quoted = !quoted;
    if (c == ',' && !quoted) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string unquote(const std::string& s) {
  std::string t = trim(s);
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"') return t.substr(1, t.size() - 2);
  return t;
}

bool valid_attr_name(const std::string& n) {
  return !n.empty() && n.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.") == std::string::npos;
}

}  // namespace

bool parse_qmgr(const std::string& line, QmgrCommand& cmd, std::string& error) {
  static const std::map<std::string, std::string> commands = {
      {"c", "create"}, {"create", "create"}, {"d", "delete"}, {"delete", "delete"}, {"s", "set"},
      {"set", "set"}, {"u", "unset"}, {"unset", "unset"}, {"l", "list"}, {"list", "list"},
      {"p", "print"}, {"print", "print"}};
  static const std::map<std::string, std::string> objects = {
      {"s", "server"}, {"server", "server"}, {"q", "queue"}, {"queue", "queue"}, {"n", "node"}, {"node", "node"}};
  std::string rest = trim(line);
  auto take_word = [&]() {
    size_t end = rest.find_first_of(" \t");
    std::string w = rest.substr(0, end);
    rest = end == std::string::npos ? "" : trim(rest.substr(end));
    return w;
  };
  std::string w = take_word();
  if (!expand(w, commands, cmd.command)) {
    error = "Illegal operation: " + w;
    return false;
  }
  w = take_word();
  if (!expand(w, objects, cmd.objtype)) {
    error = "Illegal object type: " + w;
    return false;
  }
  // An object name comes next unless the rest starts with an attribute expression.
  if (!rest.empty()) {
    size_t end = rest.find_first_of(" \t");
    std::string first = rest.substr(0, end);
    std::string after = end == std::string::npos ? "" : trim(rest.substr(end));
    bool attr_expr = first.find('=') != std::string::npos || starts_with(after, "=") ||
                     starts_with(after, "+=") || starts_with(after, "-=");
    if (cmd.objtype == "server" && cmd.command == "unset") attr_expr = true;
    if (!attr_expr) {
      cmd.name = first;
      rest = after;
    }
  }
  if (cmd.objtype != "server" && cmd.name.empty() && cmd.command != "list" && cmd.command != "print") {
    error = "a " + cmd.objtype + " name is required";
    return false;
  }
  if (rest.empty()) {
    if (cmd.command == "set" || cmd.command == "unset") {
      error = "no attributes given";
      return false;
    }
    return true;
  }
  if (cmd.command == "delete" || cmd.command == "list" || cmd.command == "print") {
    if (cmd.command == "delete") {
      error = "unexpected text after the object name: " + rest;
      return false;
    }
  }
  for (const std::string& raw : split_list(rest)) {
    std::string item = trim(raw);
    if (item.empty()) {
      error = "empty attribute in list";
      return false;
    }
    QmgrAttr a;
    if (cmd.command == "unset" || cmd.command == "list" || cmd.command == "print") {
      a.name = item;
      a.op = 3;
    } else {
      size_t eq = item.find('=');
      if (eq == std::string::npos) {
        error = "attribute '" + item + "' needs a value (name = value)";
        return false;
      }
      std::string left = trim(item.substr(0, eq));
      if (!left.empty() && (left.back() == '+' || left.back() == '-')) {
        a.op = left.back() == '+' ? 1 : 2;
        left = trim(left.substr(0, left.size() - 1));
      }
      a.name = left;
      a.value = unquote(item.substr(eq + 1));
      if (a.value.empty()) {
        error = "attribute " + a.name + " needs a value";
        return false;
      }
    }
    if (!valid_attr_name(a.name)) {
      error = "illegal attribute name '" + a.name + "'";
      return false;
    }
    cmd.attrs.push_back(a);
  }
  return true;
}

}  // namespace reprise::client
