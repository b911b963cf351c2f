// TORQUE's before dependencies: "qsub -W depend=beforeok:B" makes B wait for the new job as if
// B had been submitted with afterok on it. B usually waits already, with on:N (it runs only
// once N such dependencies have named it).
#include "common/text_util.h"
#include "server/server.h"

namespace reprise::server {

void Server::register_before(const Job& job) {
  for (const std::string& item : split(job.attr("depend"), ',')) {
    auto parts = split(item, ':');
    if (parts.size() < 2 || !parts[0].starts_with("before")) continue;
    const std::string after = "after" + parts[0].substr(6);  // before -> after, beforeok -> afterok...
    for (size_t i = 1; i < parts.size(); ++i) {
      Job* target = find_job(parts[i]);
      if (!target || target->seq == job.seq) continue;
      std::string depend = target->attr("depend");
      depend += (depend.empty() ? "" : ",") + after + ":" + job.id;
      long registered = 0;
      parse_int(target->attr("_on_registered"), registered);
      target->attrs["_on_registered"] = std::to_string(registered + 1);
      Job probe = *target;
      probe.attrs["depend"] = depend;
      bool failed = false;
      bool met = dependencies_met(probe, failed);
      apply_depend(*target, depend, met && !failed);
      save(*target);
    }
  }
}

}  // namespace reprise::server
