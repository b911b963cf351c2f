#include "client/submit_options.h"

#include <getopt.h>
#include <sys/stat.h>

#include "client/exec_time.h"
#include "common/array_range.h"
#include "common/directives.h"
#include "common/names.h"
#include "common/net.h"
#include "common/resources.h"
#include "common/checkpoint_policy.h"
#include "common/text_util.h"

namespace reprise::client {

namespace {

std::string absolute(const std::string& path, const std::string& cwd) {
  return !path.empty() && path[0] == '/' ? path : cwd + "/" + path;
}

// "-o PATH" or "-o host:PATH" -> "host:/abs/PATH". A directory (one here, or any path ending
// in '/') keeps a trailing '/': the server puts the default file name in it (JOBNAME.oSEQ).
std::string output_path(const std::string& value, const std::string& cwd, const std::string& host) {
  auto colon = value.find(':');
  bool remote = colon != std::string::npos && value.find('/') > colon;
  std::string path = absolute(remote ? value.substr(colon + 1) : value, cwd);
  struct stat st{};
  if (path.back() != '/' && !remote && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) path += '/';
  return (remote ? value.substr(0, colon) : host) + ":" + path;
}

}  // namespace

bool valid_checkpoint_option(const std::string& value, std::string& error) {
  if (valid_checkpoint_value(value)) return true;
  error = "illegal -c value '" + value + "'";
  return false;
}

bool valid_mail_points(const std::string& value) {
  if (value == "n" || value == "p") return true;
  return !value.empty() && value.size() <= 4 && value.find_first_not_of("abef") == std::string::npos;
}

bool valid_job_arguments(const std::string& value, std::string& error) {
  std::vector<std::string> words;
  std::string why;
  if (value.find('\n') != std::string::npos || !split_words(value, words, why)) {
    error = "illegal -F value '" + value + "'" + (why.empty() ? "" : ": " + why);
    return false;
  }
  return true;
}

bool apply_submit_options(const std::vector<std::string>& args, const std::string& cwd,
                          Submission& sub, std::string& error) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  optind = 0;  // full reset: this parser runs more than once
  opterr = 0;
  std::string host = local_hostname();
  int c;
  while ((c = getopt(int(args.size()), argv.data(), "+:a:A:b:c:C:d:D:e:fF:hIj:k:l:m:M:N:o:p:P:q:r:S:t:v:Vw:W:z")) != -1) {
    std::string v = optarg ? optarg : "";
    switch (c) {
      case 'N':
        if (!valid_job_name(v)) return error = "illegal -N value '" + v + "'", false;
        sub.attrs["Job_Name"] = v;
        break;
      case 'o': sub.attrs["Output_Path"] = output_path(v, cwd, host); break;
      case 'e': sub.attrs["Error_Path"] = output_path(v, cwd, host); break;
      case 'j':
        if (v != "oe" && v != "eo" && v != "n") return error = "illegal -j value '" + v + "' (use oe, eo or n)", false;
        sub.attrs["Join_Path"] = v;
        break;
      case 'l':
        if (!parse_resource_list(v, sub.resources, error)) return error = "illegal -l value: " + error, false;
        // Times as TORQUE shows them: walltime=1:02:00:00 is 26:00:00.
        for (const char* name : {"walltime", "cput", "pcput"})
          if (long secs; sub.resources.count(name) && parse_duration(sub.resources[name], secs))
            sub.resources[name] = format_duration(secs);
        break;
      case 'q': sub.attrs["queue"] = v.substr(0, v.find('@')); break;
      case 'v':
        for (const auto& item : split(v, ','))
          if (!trim(item).empty()) sub.pass_vars.push_back(trim(item));
        break;
      case 'V': sub.export_all = true; break;
      case 'h': sub.attrs["Hold_Types"] = "u"; break;
      case 'd':
      case 'w':  // TORQUE's -w is the working directory too
        if (v.empty()) return error = std::string("illegal -") + char(c) + " value ''", false;
        sub.attrs["init_work_dir"] = absolute(v, cwd);
        break;
      case 'F':  // arguments of the job script ($1...), split as a shell would
        if (!valid_job_arguments(v, error)) return false;
        sub.attrs["job_arguments"] = v;
        break;
      case 'f': sub.attrs["fault_tolerant"] = "True"; break;
      case 'b': {  // seconds qsub keeps trying to reach the server: accepted
        long secs;
        if (!parse_int(v, secs) || secs < 0) return error = "illegal -b value '" + v + "'", false;
        break;
      }
      case 'D': return error = "-D (root directory of the job) is not supported", false;
      case 'P': {  // proxy user[:group]: the server lets only managers use it
        auto colon = v.find(':');
        std::string user = v.substr(0, colon);
        if (!valid_user_name(user) || (colon != std::string::npos && !valid_user_name(v.substr(colon + 1))))
          return error = "illegal -P value '" + v + "' (use user[:group])", false;
        sub.attrs["proxy_user"] = user;
        if (colon != std::string::npos) sub.attrs["group_list"] = v.substr(colon + 1);
        break;
      }
      case 'W': {
        if (starts_with(v, "depend=")) {
          if (v.size() == 7) return error = "illegal -W value '" + v + "'", false;
          sub.attrs["depend"] = v.substr(7);
          break;
        }
        for (const auto& item : split(v, ',')) {
          auto eq = item.find('=');
          std::string name = item.substr(0, eq);
          if (eq == std::string::npos || eq + 1 == item.size()) return error = "illegal -W value '" + item + "'", false;
          std::string value = item.substr(eq + 1);
          if (name == "checkpoint_name" || name == "checkpoint_dir" || name == "x") sub.attrs[name] = value;
          else if (name == "umask") {
            if (value.size() > 4 || value.find_first_not_of("01234567") != std::string::npos)
              return error = "illegal -W umask value '" + value + "' (an octal mask such as 022)", false;
            sub.attrs["umask"] = value;
          } else if (name == "group_list") {
            if (!valid_user_name(value.substr(0, value.find('@'))))
              return error = "illegal -W group_list value '" + value + "'", false;
            sub.attrs["group_list"] = value.substr(0, value.find('@'));
          } else return error = "unsupported -W attribute '" + name + "'", false;
        }
        break;
      }
      case 'c':
        if (!valid_checkpoint_option(v, error)) return false;
        sub.attrs["Checkpoint"] = v;
        break;
      case 'S': sub.attrs["Shell_Path_List"] = v; break;
      case 'r':
        if (v != "y" && v != "n") return error = "illegal -r value '" + v + "' (use y or n)", false;
        sub.attrs["Rerunable"] = v == "y" ? "True" : "False";
        break;
      case 'p': {
        long p;
        if (!parse_int(v, p) || p < -1024 || p > 1023) return error = "illegal -p value '" + v + "'", false;
        sub.attrs["Priority"] = v;
        break;
      }
      case 'm':
        if (!valid_mail_points(v)) return error = "illegal -m value '" + v + "' (use n, p, or some of a, b, e, f)", false;
        sub.attrs["Mail_Points"] = v;
        break;
      case 'M': sub.attrs["Mail_Users"] = v; break;
      case 'A': sub.attrs["Account_Name"] = v; break;
      case 'a': {  // deferred start: the job waits in state W until then
        std::time_t when;
        if (!parse_execution_time(v, std::time(nullptr), when))
          return error = "illegal -a value '" + v + "' (use [[[[CC]YY]MM]DD]hhmm[.SS])", false;
        sub.attrs["Execution_Time"] = std::to_string(long(when));
        break;
      }
      case 'k': sub.attrs["Keep_Files"] = v; break;
      case 'C': break;  // directive prefix: handled before directives are read
      case 'z': sub.quiet = true; break;
      case 't': {  // job array: indices, ranges and an optional %SLOT_LIMIT
        ArrayRequest request;
        if (!parse_array_request(v, request, error)) return error = "illegal -t value: " + error, false;
        sub.attrs["job_array_request"] = v;
        break;
      }
      case 'I': return error = "interactive jobs (-I) are not supported", false;
      case ':': return error = std::string("option -") + char(optopt) + " requires an argument", false;
      default:
        return error = std::string("invalid option -- '") + char(optopt) + "'", false;
    }
  }
  for (int i = optind; i < int(args.size()); ++i) sub.operands.push_back(args[size_t(i)]);
  return true;
}

}  // namespace reprise::client
