// cr_checkpoint's check of the sockets in a finished image: each agent saw
// only its own process, so whether a peer is inside the job is decided here,
// over the whole image, before the image is committed.
#pragma once

#include <string>
#include <vector>

namespace reprise::cr {

// "" when every socket of the image at `path` can be restored; otherwise one
// line naming the pid, fd, kind, both addresses and what to do.
// external_closed: connections to outside the job are allowed (they will
// come back closed).
// host_pids[i]: process i of the image as cr_checkpoint's caller sees it
// (the pid the message names, like every other refusal).
std::string CheckImageSockets(const std::string& path, bool external_closed, const std::vector<int>& host_pids);

}  // namespace reprise::cr
