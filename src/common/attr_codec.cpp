#include "common/attr_codec.h"

namespace reprise {

void put_attrs(const AttrMap& attrs, google::protobuf::RepeatedPtrField<storage::Attr>& out) {
  out.Reserve(int(attrs.size()));
  for (const auto& [name, value] : attrs) {
    storage::Attr* a = out.Add();
    a->set_name(name);
    a->set_value(value);
  }
}

AttrMap get_attrs(const google::protobuf::RepeatedPtrField<storage::Attr>& in) {
  AttrMap out;
  for (const auto& a : in) out[a.name()] = a.value();
  return out;
}

std::string encode_attrs(const AttrMap& attrs) {
  storage::AttrList list;
  put_attrs(attrs, *list.mutable_attrs());
  return list.SerializeAsString();
}

bool decode_attrs(std::string_view data, AttrMap& attrs) {
  storage::AttrList list;
  if (!list.ParseFromArray(data.data(), int(data.size()))) return false;
  attrs = get_attrs(list.attrs());
  return true;
}

}  // namespace reprise
