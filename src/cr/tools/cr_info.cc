// cr_info [--json] PATH: prints what a checkpoint image holds, after
// checking every checksum in it (page data included).
#include <iostream>

#include <CLI/CLI.hpp>

#include "lib/image_printer.h"
#include "lib/image_reader.h"

int main(int argc, char** argv) {
  CLI::App app{"Describe a checkpoint image."};
  std::string path;
  bool json = false, quick = false;
  app.add_flag("--json", json, "Machine-readable output");
  app.add_flag("--quick", quick, "Do not read the page data to verify its checksum");
  app.add_option("IMAGE", path, "The image file")->required();
  app.set_version_flag("--version", "cr_info (Reprise) 0.1");
  CLI11_PARSE(app, argc, argv);
  try {
    reprise::cr::Image img = reprise::cr::ReadImage(path, !quick);
    if (json) std::cout << reprise::cr::ImageToJson(img).dump(2) << "\n";
    else reprise::cr::PrintImage(img, std::cout);
  } catch (const reprise::cr::ImageError& e) {
    std::cerr << "cr_info: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
