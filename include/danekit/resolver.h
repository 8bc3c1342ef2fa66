// How danekit reaches and trusts the DNS (docs/cli.md, "Pointing danekit at a root").
#pragma once

#include <stdexcept>
#include <string>

namespace danekit {

struct ResolverConfig {
  std::string trust_anchor_file;  // DS/DNSKEY zone-file lines; empty: built-in root KSKs
  std::string root_hints_file;    // empty: libunbound's built-in root hints
  std::string forwarder;          // ADDR[@PORT]; empty: full recursion
};

// Set-up failures (unreadable or invalid files, bad forwarder address).
class ResolverError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses "ADDR[@PORT]" (IPv4 or IPv6 literal, port 1-65535) as given to
// --resolver. Returns an error message, empty when fine.
std::string validate_forwarder(const std::string& spec);

}  // namespace danekit
