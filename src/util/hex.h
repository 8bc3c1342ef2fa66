// Hex encoding helpers shared by TLSA, certificate and report code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace danekit {

std::string to_hex(const std::vector<std::uint8_t>& bytes);
// Accepts upper and lower case; white space is skipped. nullopt on odd length or a
// non-hex character.
std::optional<std::vector<std::uint8_t>> from_hex(std::string_view text);

// Makes peer-controlled text safe to show and to put in JSON: printable ASCII
// stays, everything else becomes '?', and the result is cut to `max` bytes.
std::string sanitize_peer_text(std::string_view text, std::size_t max = 512);

// Text safe to show on a terminal, keeping readable UTF-8: control characters
// (C0, DEL, C1), bidirectional overrides and isolates (U+200E/F, U+202A-E,
// U+2066-9) and invalid UTF-8 become visible escapes (\x1b, \u{202e}).
std::string sanitize_for_display(std::string_view text);

}  // namespace danekit
