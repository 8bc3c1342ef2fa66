#include "scan/options_key.h"

#include <fmt/format.h>
#include <vector>

#include "danekit/keys.h"
#include "scan/input_reader.h"

namespace danekit::scan {

namespace {

// The file's contents stand for it; a file that cannot be read (the resolver
// will refuse it anyway) stands by its name.
std::string file_key(const std::string& path) {
  if (path.empty()) return "built-in";
  auto bytes = read_file_bytes(path);
  if (!bytes) return "unreadable:" + path;
  std::string data(bytes->begin(), bytes->end());
  return "sha256:" + sha256_hex(data);
}

}  // namespace

std::string options_key(const CheckOptions& o) {
  std::string text = fmt::format(
      "danekit.scan-options/1\ntrust-anchor={}\nroot-hints={}\nresolver={}\nipv4={}\nipv6={}\nhelo={}\nport={}\n"
      "timeout={}\nconnect-timeout={}\ncommand-timeout={}\ndns-timeout={}\ndays={}\ninsecure-mx={}\n",
      file_key(o.resolver.trust_anchor_file), file_key(o.resolver.root_hints_file), o.resolver.forwarder, o.policy.ipv4,
      o.policy.ipv6, o.helo, o.port, o.timeout.count(), o.connect_timeout.count(), o.command_timeout.count(),
      o.dns_timeout.count(), o.policy.warn_days, o.policy.insecure_mx == InsecureMxPolicy::may ? "may" : "dane");
  // Only when not the default, so that the keys of earlier runs stay valid.
  if (!o.policy.flag_special_addresses) text += "special-addresses=allow\n";
  if (o.other_certificate) text += "other-certificate=yes\n";
  return sha256_hex(text);
}

}  // namespace danekit::scan
