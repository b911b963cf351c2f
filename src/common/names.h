// Grammars for the names and paths that daemons running as root put into file paths.
// Whoever sent a value (a client, the server, a mom), it is checked against these before
// it is used: a job id of "../../etc/x" must never become a path.
#pragma once
#include <string>

namespace reprise {

// SEQ.SERVER, SEQ[INDEX].SERVER or SEQ[].SERVER: digits, an optional array index, a dot, and
// a server name (letters, digits, '-', '_', '.', not starting with '.'); at most 255 bytes.
bool valid_job_id(const std::string& id);

// A host, node or server name: letters, digits, '-', '_', '.'; not starting with '.' or '-';
// at most 255 bytes.
bool valid_host_name(const std::string& name);

// A file name inside a directory (checkpoint_name): letters, digits, '.', '_', '-', '+', ',',
// '=', '@', '[' and ']' (images of array sub-jobs: ckpt.5[3].host.TIME); not "." or "..";
// not starting with '-'; at most 255 bytes.
bool valid_file_name(const std::string& name);

// A job name (-N): 1-236 bytes, none of '/', ':', '@', white space or control characters (it
// becomes part of the output file names); bytes >= 0x80 are fine.
bool valid_job_name(const std::string& name);

// An absolute path with no "." or ".." component, no empty component ("//"), no trailing
// '/' (except "/" itself), no control character; at most 4096 bytes.
bool valid_absolute_path(const std::string& path);

// A user or group name (-P, group_list): letters, digits, '.', '_', '-', a final '$'; not
// starting with '-'; 1-32 bytes.
bool valid_user_name(const std::string& name);

// Text that ends up in one-line listings and logs: no control characters (bytes < 32, 127).
bool valid_one_line(const std::string& text);

}  // namespace reprise
