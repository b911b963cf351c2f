#include "lib/socket_check.h"

#include "lib/image_reader.h"
#include "lib/socket_state.h"

namespace reprise::cr {

std::string CheckImageSockets(const std::string& path, bool external_closed, const std::vector<int>& host_pids) {
  Image img;
  try {
    img = ReadImage(path, /*verify_pages=*/false);
  } catch (const ImageError& e) {
    return std::string("cannot read back the image to check its sockets: ") + e.what();
  }
  ImageSockets all = CollectSockets(img);
  for (auto& [ino, use] : all.first_use)
    if (use.process < host_pids.size()) use.pid = host_pids[use.process];
  for (auto& [ino, s] : all.by_ino) {
    std::string why;
    if (!external_closed && LeadsOutside(all, ino, &why))
      return why + "; checkpoint with --external-sockets=closed to restore it as a closed connection";
    why = Unrestorable(all, ino);
    if (!why.empty()) return why;
  }
  return "";
}

}  // namespace reprise::cr
