// Publishing TLSA changes: an RFC 2136 dynamic update signed with TSIG
// (RFC 8945), built and sent with ldns, or printed for nsupdate(1) or a zone file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "danekit/tlsa.h"

namespace danekit {

struct TsigKey {
  std::string name;       // "roll-key."
  std::string algorithm;  // "hmac-sha256"
  std::string secret;     // base64
};

// Reads a BIND key file (`key "name" { algorithm hmac-sha256; secret "..."; };`)
// or a one-line `algorithm:name:secret` (knsupdate -y form).
tl::expected<TsigKey, std::string> read_tsig_file(const std::string& path);

struct TlsaUpdate {
  std::string zone;   // the zone to update
  std::string owner;  // _25._tcp.mx.example.org
  std::uint32_t ttl = 3600;
  std::vector<TlsaRecord> add;
  std::vector<TlsaRecord> remove;
};

// Sends the update to SERVER[@PORT] (an IP literal; port 53 by default) and
// waits for the answer (bounded). Success only on NOERROR with a valid TSIG
// on the reply when a key is given.
tl::expected<void, std::string> send_tlsa_update(const std::string& server, const TlsaUpdate& update,
                                                 const std::optional<TsigKey>& key, int timeout_seconds = 10);

// The same change as an nsupdate(1) script, and as zone-file lines (the
// records to have after the change; removals as comments).
std::string format_nsupdate(const TlsaUpdate& update, const std::string& server = {});
std::string format_zone_change(const TlsaUpdate& update);

}  // namespace danekit
