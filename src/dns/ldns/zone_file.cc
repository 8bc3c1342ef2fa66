#include "dns/ldns/zone_file.h"

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

// ldns's headers redefine `bool` for C; they come after every C++ header.
#include <ldns/ldns.h>

namespace danekit {

namespace {

struct FileCloser {
  void operator()(FILE* f) const {
    if (f) std::fclose(f);
  }
};

std::string take_string(char* s) {
  std::string out = s ? s : "";
  std::free(s);
  return out;
}

ZoneRecord to_record(const ldns_rr* rr) {
  ZoneRecord r;
  r.owner = take_string(ldns_rdf2str(ldns_rr_owner(rr)));
  r.type = static_cast<std::uint16_t>(ldns_rr_get_type(rr));
  for (std::size_t i = 0; i < ldns_rr_rd_count(rr); ++i)
    r.rdata.push_back(take_string(ldns_rdf2str(ldns_rr_rdf(rr, i))));
  r.text = take_string(ldns_rr2str(rr));
  while (!r.text.empty() && (r.text.back() == '\n' || r.text.back() == ' ')) r.text.pop_back();
  return r;
}

// RFC 4034 §5.1: the digest length each digest type fixes (SHA-1 RFC 4034,
// SHA-256 RFC 4509 §2.2, SHA-384 RFC 6605 §2); 0 for a type we do not know.
std::size_t digest_length(std::uint8_t type) {
  switch (type) {
    case 1: return 20;
    case 2: return 32;
    case 4: return 48;
    default: return 0;
  }
}

}  // namespace

tl::expected<std::vector<ZoneRecord>, std::string> parse_zone_records(std::span<const std::uint8_t> bytes,
                                                                      std::string_view what, std::string_view path) {
  if (bytes.empty()) return tl::unexpected(fmt::format("{} file '{}' is empty", what, path));
  if (std::find(bytes.begin(), bytes.end(), std::uint8_t{0}) != bytes.end())
    return tl::unexpected(fmt::format("{} file '{}' holds a NUL byte: not a zone file", what, path));
  // ldns reads zone files from a FILE; fmemopen only reads this copy.
  std::vector<std::uint8_t> copy(bytes.begin(), bytes.end());
  std::unique_ptr<FILE, FileCloser> f(fmemopen(copy.data(), copy.size(), "r"));
  if (!f) return tl::unexpected(fmt::format("cannot read {} file '{}': {}", what, path, std::strerror(errno)));

  std::vector<ZoneRecord> out;
  std::uint32_t ttl = 3600;
  ldns_rdf* origin = nullptr;
  ldns_rdf* prev = nullptr;
  int line = 1;
  std::string error;
  while (!std::feof(f.get())) {
    long before = std::ftell(f.get());
    ldns_rr* rr = nullptr;
    ldns_status st = ldns_rr_new_frm_fp_l(&rr, f.get(), &ttl, &origin, &prev, &line);
    if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL || st == LDNS_STATUS_SYNTAX_ORIGIN) {
      if (std::ftell(f.get()) == before) break;  // no progress: the parser is stuck, stop here
      continue;
    }
    if (st != LDNS_STATUS_OK) {
      if (rr) ldns_rr_free(rr);
      // ldns counts the newline that ended the record: name the record's own
      // (last) line.
      long at = std::ftell(f.get());
      int shown = line;
      if (at > 0 && static_cast<std::size_t>(at) <= copy.size() && copy[static_cast<std::size_t>(at) - 1] == '\n' &&
          shown > 1)
        --shown;
      error = fmt::format("{} file '{}' line {}: {}", what, path, shown, ldns_get_errorstr_by_id(st));
      break;
    }
    out.push_back(to_record(rr));
    ldns_rr_free(rr);
    if (out.size() > max_zone_file_records) {
      error = fmt::format("{} file '{}' holds more than {} records", what, path, max_zone_file_records);
      break;
    }
  }
  if (origin) ldns_rdf_deep_free(origin);
  if (prev) ldns_rdf_deep_free(prev);
  if (!error.empty()) return tl::unexpected(std::move(error));
  return out;
}

tl::expected<std::vector<ZoneRecord>, std::string> parse_trust_anchors(std::span<const std::uint8_t> bytes,
                                                                       std::string_view path) {
  auto records = parse_zone_records(bytes, "trust anchor", path);
  if (!records) return tl::unexpected(std::move(records.error()));
  std::vector<ZoneRecord> anchors;
  for (auto& r : *records) {
    if (r.type == LDNS_RR_TYPE_DS && r.rdata.size() >= 4) {
      // A DS whose digest has the wrong length for its digest type can never
      // match a key: say so instead of validating nothing.
      auto type = static_cast<std::uint8_t>(std::strtoul(r.rdata[2].c_str(), nullptr, 10));
      std::size_t want = digest_length(type);
      std::size_t have = r.rdata[3].size() / 2;  // ldns prints the digest as hex
      if (want != 0 && have != want)
        return tl::unexpected(
            fmt::format("trust anchor file '{}': the DS for key tag {} has a {}-byte digest; digest type {} "
                        "needs {} bytes",
                        path, r.rdata[0], have, type, want));
    }
    if (r.type == LDNS_RR_TYPE_DS || r.type == LDNS_RR_TYPE_DNSKEY) anchors.push_back(std::move(r));
  }
  if (anchors.empty()) return tl::unexpected(fmt::format("trust anchor file '{}' holds no DS or DNSKEY records", path));
  return anchors;
}

tl::expected<RootHints, std::string> parse_root_hints(std::span<const std::uint8_t> bytes, std::string_view path) {
  auto records = parse_zone_records(bytes, "root hints", path);
  if (!records) return tl::unexpected(std::move(records.error()));
  RootHints hints;
  for (const auto& r : *records) {
    if (r.type == LDNS_RR_TYPE_NS) ++hints.ns;
    if ((r.type == LDNS_RR_TYPE_A || r.type == LDNS_RR_TYPE_AAAA) && !r.rdata.empty())
      hints.addresses.push_back(r.rdata[0]);
  }
  if (hints.ns == 0 || hints.addresses.empty())
    return tl::unexpected(fmt::format("root hints file '{}' needs NS records and their A or AAAA addresses", path));
  return hints;
}

}  // namespace danekit
