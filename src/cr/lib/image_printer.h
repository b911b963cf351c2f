// cr_info's output: a human summary of an image, or JSON for machines.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "lib/image_reader.h"

namespace reprise::cr {

nlohmann::json ImageToJson(const Image& img);
void PrintImage(const Image& img, std::ostream& out);

}  // namespace reprise::cr
