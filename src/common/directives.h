// #PBS directives of a job script.
#pragma once
#include <string>
#include <vector>

namespace reprise {

// Collects the option words of the "#PBS" lines (prefix configurable, as qsub -C) that come
// before the first command of the script, in order. Words are split like a shell would
// (quotes and backslashes), and a '#' after whitespace starts a comment.
// On a malformed line returns false with "line N: why".
bool parse_pbs_directives(const std::string& script, const std::string& prefix,
                          std::vector<std::string>& words, std::string& error);

// Splits one line into words (shell-like quoting). False on unbalanced quotes.
bool split_words(const std::string& line, std::vector<std::string>& words, std::string& error);

}  // namespace reprise
