// Byte-exact storage of attribute maps (storage.proto), shared by the server's database rows
// and the mom's job records. JSON, the format before, cannot hold non-UTF-8 values.
#pragma once
#include <map>
#include <string>
#include <string_view>

#include "storage.pb.h"

namespace reprise {

using AttrMap = std::map<std::string, std::string>;

void put_attrs(const AttrMap& attrs, google::protobuf::RepeatedPtrField<storage::Attr>& out);
AttrMap get_attrs(const google::protobuf::RepeatedPtrField<storage::Attr>& in);

std::string encode_attrs(const AttrMap& attrs);
// False if `data` is not an encoded AttrList.
bool decode_attrs(std::string_view data, AttrMap& attrs);

}  // namespace reprise
