#include "common/directives.h"

#include <sstream>

#include "common/text_util.h"

namespace reprise {

bool split_words(const std::string& line, std::vector<std::string>& words, std::string& error) {
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == quote) quote = 0;
      else if (c == '\\' && quote == '"' && i + 1 < line.size()) cur += line[++i];
      else cur += c;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 < line.size()) cur += line[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      if (in_word) words.push_back(cur);
      cur.clear();
      in_word = false;
    } else if (c == '#' && !in_word) {
      break;  // comment
    } else if (c == '\0') {
      error = "NUL byte in directive";
      return false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (quote) {
    error = std::string("unterminated ") + quote + " quote";
    return false;
  }
  if (in_word) words.push_back(cur);
  return true;
}

bool parse_pbs_directives(const std::string& script, const std::string& prefix,
                          std::vector<std::string>& words, std::string& error) {
  std::istringstream in(script);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string t = trim(line);
    if (t.empty()) continue;
    if (t[0] != '#') break;  // first command: directives end here, as in TORQUE
    if (!starts_with(t, prefix)) continue;
    std::string rest = t.substr(prefix.size());
    if (!rest.empty() && rest[0] != ' ' && rest[0] != '\t') continue;  // e.g. "#PBSX"
    std::vector<std::string> line_words;
    std::string why;
    if (!split_words(rest, line_words, why)) {
      error = "line " + std::to_string(lineno) + ": " + why;
      return false;
    }
    if (!line_words.empty() && (line_words[0].empty() || line_words[0][0] != '-')) {
      error = "line " + std::to_string(lineno) + ": directive must start with an option, got '" +
              line_words[0] + "'";
      return false;
    }
    words.insert(words.end(), line_words.begin(), line_words.end());
  }
  return true;
}

}  // namespace reprise
