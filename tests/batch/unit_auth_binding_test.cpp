// The payload grammar of a connection-bound credential (src/common/auth_binding.h): exactly
// the known keys once each, a hex nonce, nothing else; every mismatch has its own reason.
#include <gtest/gtest.h>

#include "common/auth_binding.h"

using reprise::Binding;

namespace {

const std::string kNonce = "0123456789abcdef0123456789abcdef";

TEST(AuthBinding, PayloadRoundTrips) {
  Binding b{"mom", kNonce, "127.0.0.1:40000", "127.0.0.1:15001", "node2"};
  std::string p = reprise::binding_payload(b);
  EXPECT_EQ(p, "reprise/1 role=mom nonce=" + kNonce + " client=127.0.0.1:40000 server=127.0.0.1:15001 node=node2");
  Binding got;
  ASSERT_TRUE(reprise::parse_binding(p, got));
  EXPECT_EQ(got.role, "mom");
  EXPECT_EQ(got.node, "node2");
  EXPECT_EQ(got.client, "127.0.0.1:40000");
}

TEST(AuthBinding, AnythingElseIsNotABinding) {
  Binding got;
  const std::string base = "reprise/1 role=user nonce=" + kNonce + " client=1.2.3.4:5 server=1.2.3.4:6";
  EXPECT_TRUE(reprise::parse_binding(base, got));
  std::vector<std::string> bad = {"somehost", "", "reprise/2" + base.substr(9), base + " host=thathost", base + " role=mom",
                                  base + " node=", base + "  node=n", base + " node",
                                  "reprise/1 role=user nonce=ABC client=a server=b",
                                  "reprise/1 role=user nonce=" + kNonce + " client=a",
                                  "reprise/1 role=user nonce=" + kNonce + " x server=b client=a"};
  for (const std::string& p : bad)
    EXPECT_FALSE(reprise::parse_binding(p, got)) << p;
}

TEST(AuthBinding, EachMismatchSaysWhat) {
  Binding expected{"user", kNonce, "127.0.0.1:40000", "127.0.0.1:15001", ""};
  Binding got;
  std::string reason, detail;
  EXPECT_TRUE(reprise::binding_matches(reprise::binding_payload(expected), expected, got, reason, detail));
  Binding other = expected;
  other.nonce = "f" + kNonce.substr(1);
  EXPECT_FALSE(reprise::binding_matches(reprise::binding_payload(other), expected, got, reason, detail));
  EXPECT_EQ(reason, "credential bound to another connection");
  EXPECT_EQ(detail, "it answers challenge f1234567..., not this connection's 01234567...");
  other = expected;
  other.client = "127.0.0.1:40001";
  EXPECT_FALSE(reprise::binding_matches(reprise::binding_payload(other), expected, got, reason, detail));
  EXPECT_EQ(detail, "it names client 127.0.0.1:40001 and server 127.0.0.1:15001, this connection is 127.0.0.1:40000 to 127.0.0.1:15001");
  other = expected;
  other.role = "server";
  EXPECT_FALSE(reprise::binding_matches(reprise::binding_payload(other), expected, got, reason, detail));
  EXPECT_EQ(reason, "credential made for a server");
  Binding mom{"server", kNonce, "a:1", "b:2", "node2"};
  other = mom;
  other.node = "elsewhere";
  EXPECT_FALSE(reprise::binding_matches(reprise::binding_payload(other), mom, got, reason, detail));
  EXPECT_EQ(reason, "credential made for another node");
  EXPECT_FALSE(reprise::binding_matches("node2", mom, got, reason, detail));
  EXPECT_EQ(reason, "credential not bound to a connection");
}

TEST(AuthBinding, NoncesAreFreshHex) {
  std::string a = reprise::fresh_nonce(), b = reprise::fresh_nonce();
  EXPECT_TRUE(reprise::valid_nonce(a)) << a;
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_FALSE(reprise::valid_nonce("0123"));
  EXPECT_FALSE(reprise::valid_nonce(kNonce + " node=x"));
}

}  // namespace
