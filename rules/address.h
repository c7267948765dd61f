// Addresses: the bare addr-specs (local@domain) of an address header such as From: or To:.
//
// Our own small RFC 5322 parser, not mimetic's: mimetic's AddressList crashes (use after
// free) on an unterminated group such as "undisclosed-recipients:" (ARCHITECTURE.md, "Facts"),
// and a header is attacker-controlled input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mda::rules {

// The addr-spec of each mailbox in an address-list header value, in order. Display names,
// comments and group names are dropped ("Bob" <bob@x> -> bob@x; "bob@x" <phish@y> ->
// phish@y; "team: a@x, b@y;" -> a@x, b@y; "undisclosed-recipients:;" -> nothing); a
// route ("<@relay:bob@x>") is removed. Never fails: what cannot be parsed yields what it can.
std::vector<std::string> ParseAddresses(std::string_view value);

}  // namespace mda::rules
