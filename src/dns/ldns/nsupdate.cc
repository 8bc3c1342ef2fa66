// RFC 2136 update messages with ldns: ldns builds the message and the TSIG
// (RFC 8945) signature and checks the signature on the reply.
#include "danekit/nsupdate.h"

#include <arpa/inet.h>

#include <fmt/format.h>
#include <fstream>
#include <regex>
#include <sstream>

#include "danekit/keys.h"
#include "util/hex.h"

// ldns's headers redefine `bool` for C; they come after every C++ header.
#include <ldns/ldns.h>

namespace danekit {

namespace {

std::string fqdn(std::string name) {
  if (name.empty() || name.back() != '.') name += '.';
  return name;
}

std::string rr_text(const TlsaUpdate& u, const TlsaRecord& r, std::uint32_t ttl, const char* cls) {
  return fmt::format("{} {} {} TLSA {}", fqdn(u.owner), ttl, cls, to_presentation(r));
}

bool valid_base64(const std::string& s) {
  return !s.empty() &&
         s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == std::string::npos;
}

}  // namespace

tl::expected<TsigKey, std::string> read_tsig_file(const std::string& path) {
  // Bounded like every other input file: a directory or /dev/zero ends here.
  auto bytes = read_file_bytes(path);
  if (!bytes) return tl::unexpected("--tsig " + bytes.error());
  std::string text(bytes->begin(), bytes->end());
  if (text.size() > 65536) return tl::unexpected(fmt::format("--tsig {}: file too large for a key", path));
  TsigKey key;
  std::smatch m;
  static const std::regex bind(
      R"re(key\s+"?([A-Za-z0-9._-]+)"?\s*\{[^}]*algorithm\s+"?([A-Za-z0-9-]+)"?\s*;[^}]*secret\s+"([^"]+)"\s*;)re");
  static const std::regex bind2(
      R"re(key\s+"?([A-Za-z0-9._-]+)"?\s*\{[^}]*secret\s+"([^"]+)"\s*;[^}]*algorithm\s+"?([A-Za-z0-9-]+)"?\s*;)re");
  static const std::regex line(R"re(^\s*(hmac-[a-z0-9]+):([A-Za-z0-9._-]+):([A-Za-z0-9+/=]+)\s*$)re");
  if (std::regex_search(text, m, bind)) {
    key = {m[1], m[2], m[3]};
  } else if (std::regex_search(text, m, bind2)) {
    key = {m[1], m[3], m[2]};
  } else if (std::regex_search(text, m, line)) {
    key = {m[2], m[1], m[3]};
  } else {
    return tl::unexpected(
        fmt::format("--tsig {}: no TSIG key found (expected a BIND key block or 'hmac-sha256:name:secret')", path));
  }
  key.name = fqdn(key.name);
  for (auto& c : key.algorithm) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static const char* known[] = {"hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224", "hmac-sha1"};
  if (std::find(std::begin(known), std::end(known), key.algorithm) == std::end(known))
    return tl::unexpected(fmt::format("--tsig {}: unsupported algorithm '{}'", path, key.algorithm));
  if (!valid_base64(key.secret)) return tl::unexpected(fmt::format("--tsig {}: the secret is not base64", path));
  return key;
}

tl::expected<void, std::string> send_tlsa_update(const std::string& server, const TlsaUpdate& u,
                                                 const std::optional<TsigKey>& key, int timeout_seconds) {
  auto at = server.find('@');
  std::string addr = server.substr(0, at);
  int port = 53;
  if (at != std::string::npos) {
    try {
      port = std::stoi(server.substr(at + 1));
    } catch (...) {
      port = -1;
    }
    if (port < 1 || port > 65535) return tl::unexpected(fmt::format("--nsupdate {}: bad port", server));
  }
  ldns_rdf* ns = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_A, addr.c_str());
  if (!ns) ns = ldns_rdf_new_frm_str(LDNS_RDF_TYPE_AAAA, addr.c_str());
  if (!ns) return tl::unexpected(fmt::format("--nsupdate {}: not an IP address", server));

  ldns_resolver* res = ldns_resolver_new();
  ldns_resolver_push_nameserver(res, ns);
  ldns_rdf_deep_free(ns);
  ldns_resolver_set_port(res, static_cast<uint16_t>(port));
  ldns_resolver_set_usevc(res, true);  // TCP: no truncation, no spoofed UDP replies
  ldns_resolver_set_timeout(res, timeval{timeout_seconds, 0});
  ldns_resolver_set_retry(res, 1);
  if (key) {
    ldns_resolver_set_tsig_keyname(res, key->name.c_str());
    std::string alg = key->algorithm + ".";
    ldns_resolver_set_tsig_algorithm(res, alg.c_str());
    ldns_resolver_set_tsig_keydata(res, key->secret.c_str());
  }

  auto fail = [&](std::string msg) {
    ldns_resolver_deep_free(res);
    return tl::unexpected(std::move(msg));
  };
  ldns_rr_list* updates = ldns_rr_list_new();
  auto push = [&](const std::string& text, ldns_rr_class cls) -> bool {
    ldns_rr* rr = nullptr;
    if (ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK) return false;
    ldns_rr_set_class(rr, cls);
    ldns_rr_list_push_rr(updates, rr);
    return true;
  };
  // RFC 2136 §2.5.4: delete an RR by class NONE and TTL 0; §2.5.1: add with class IN.
  for (const auto& r : u.remove)
    if (!push(rr_text(u, r, 0, "IN"), LDNS_RR_CLASS_NONE)) {
      ldns_rr_list_deep_free(updates);
      return fail(fmt::format("cannot encode the removal of {}", to_presentation(r)));
    }
  for (const auto& r : u.add)
    if (!push(rr_text(u, r, u.ttl, "IN"), LDNS_RR_CLASS_IN)) {
      ldns_rr_list_deep_free(updates);
      return fail(fmt::format("cannot encode {}", to_presentation(r)));
    }
  ldns_rdf* zone = ldns_dname_new_frm_str(fqdn(u.zone).c_str());
  ldns_pkt* pkt = ldns_update_pkt_new(zone, LDNS_RR_CLASS_IN, nullptr, updates, nullptr);
  ldns_rr_list_deep_free(updates);
  if (!pkt) return fail("cannot build the update message");
  ldns_pkt_set_random_id(pkt);
  if (key && ldns_update_pkt_tsig_add(pkt, res) != LDNS_STATUS_OK) {
    ldns_pkt_free(pkt);
    return fail("cannot sign the update with the TSIG key");
  }
  ldns_pkt* answer = nullptr;
  ldns_status st = ldns_resolver_send_pkt(&answer, res, pkt);
  ldns_pkt_free(pkt);
  if (st != LDNS_STATUS_OK || !answer) {
    if (answer) ldns_pkt_free(answer);
    return fail(fmt::format("update to {} failed: {}", server, ldns_get_errorstr_by_id(st)));
  }
  ldns_pkt_rcode rcode = ldns_pkt_get_rcode(answer);
  ldns_pkt_free(answer);
  ldns_resolver_deep_free(res);
  if (rcode != LDNS_RCODE_NOERROR) {
    const ldns_lookup_table* lt = ldns_lookup_by_id(ldns_rcodes, static_cast<int>(rcode));
    return tl::unexpected(
        fmt::format("{} refused the update: {}", server, lt ? lt->name : std::to_string(static_cast<int>(rcode))));
  }
  return {};
}

std::string format_nsupdate(const TlsaUpdate& u, const std::string& server) {
  std::string out;
  if (!server.empty()) {
    auto at = server.find('@');
    out += at == std::string::npos ? fmt::format("server {}\n", server)
                                   : fmt::format("server {} {}\n", server.substr(0, at), server.substr(at + 1));
  }
  out += fmt::format("zone {}\n", fqdn(u.zone));
  for (const auto& r : u.remove) out += fmt::format("update delete {} TLSA {}\n", fqdn(u.owner), to_presentation(r));
  for (const auto& r : u.add)
    out += fmt::format("update add {} {} TLSA {}\n", fqdn(u.owner), u.ttl, to_presentation(r));
  out += "send\n";
  return out;
}

std::string format_zone_change(const TlsaUpdate& u) {
  std::string out;
  for (const auto& r : u.remove) out += fmt::format("; remove: {}\n", rr_text(u, r, u.ttl, "IN"));
  for (const auto& r : u.add) out += rr_text(u, r, u.ttl, "IN") + "\n";
  return out;
}

}  // namespace danekit
