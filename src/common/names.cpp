#include "common/names.h"

#include <cstddef>

namespace reprise {

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.';
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool valid_host_name(const std::string& name) {
  if (name.empty() || name.size() > 255 || name[0] == '.' || name[0] == '-') return false;
  for (char c : name)
    if (!name_char(c)) return false;
  return name.find("..") == std::string::npos;
}

bool valid_job_id(const std::string& id) {
  if (id.size() > 255) return false;
  size_t i = 0;
  while (i < id.size() && is_digit(id[i])) ++i;
  if (i == 0 || i > 18) return false;
  if (i < id.size() && id[i] == '[') {
    size_t start = ++i;
    while (i < id.size() && is_digit(id[i])) ++i;
    if (i >= id.size() || id[i] != ']' || i - start > 18) return false;
    ++i;
  }
  if (i >= id.size() || id[i] != '.') return false;
  return valid_host_name(id.substr(i + 1));
}

bool valid_file_name(const std::string& name) {
  if (name.empty() || name.size() > 255 || name == "." || name == ".." || name[0] == '-') return false;
  for (char c : name)
    if (!name_char(c) && c != '+' && c != ',' && c != '=' && c != '@' && c != '[' && c != ']') return false;
  return true;
}

bool valid_user_name(const std::string& name) {
  if (name.empty() || name.size() > 32 || name[0] == '-') return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-' || (c == '$' && i + 1 == name.size());
    if (!ok) return false;
  }
  return true;
}

bool valid_job_name(const std::string& n) {
  if (n.empty() || n.size() > 236) return false;
  for (char c : n)
    if (c == '/' || c == ' ' || c == ':' || c == '@' || static_cast<unsigned char>(c) < 32 || c == 127) return false;
  return true;
}

bool valid_one_line(const std::string& text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) < 32 || c == 127) return false;
  return true;
}

bool valid_absolute_path(const std::string& path) {
  if (path.empty() || path[0] != '/' || path.size() > 4096 || !valid_one_line(path)) return false;
  if (path == "/") return true;
  if (path.back() == '/') return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace reprise
