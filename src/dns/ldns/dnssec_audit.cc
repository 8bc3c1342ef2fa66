// audit_dnssec: the pure half of `danekit dnssec` (danekit/dnssec_audit.h).
// Replies in, findings out. ldns parses the wire format and verifies every
// signature (ldns_verify_rrsig_keylist_time at the input's `now`); nothing here
// does I/O or reads a clock.
#include <fmt/format.h>
#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "danekit/dnssec_audit.h"
#include "util/hex.h"

// ldns's headers redefine `bool` for C; they come after every C++ header.
#include <ldns/ldns.h>

namespace danekit {

std::string_view to_string(DnsTransport t) { return t == DnsTransport::udp ? "udp" : "tcp"; }

namespace {

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct ListFree {  // lists of clones
  void operator()(ldns_rr_list* l) const { ldns_rr_list_deep_free(l); }
};
struct RdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;
using List = std::unique_ptr<ldns_rr_list, ListFree>;
using Rdf = std::unique_ptr<ldns_rdf, RdfFree>;

List new_list() { return List(ldns_rr_list_new()); }

std::string lower_no_dot(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

std::string name_of(const ldns_rdf* rdf) {
  char* s = ldns_rdf2str(rdf);
  std::string out = s ? s : "";
  free(s);
  return lower_no_dot(out);
}

std::string type_name(ldns_rr_type t) {
  char* s = ldns_rr_type2str(t);
  std::string out = s ? s : std::to_string(static_cast<int>(t));
  free(s);
  return out;
}

// Whether `name` is `zone` or below it (both in our form: "." or no trailing dot).
bool in_zone(const std::string& name, const std::string& zone) {
  if (zone == ".") return true;
  if (name == zone) return true;
  return name.size() > zone.size() && name.compare(name.size() - zone.size(), zone.size(), zone) == 0 &&
         name[name.size() - zone.size() - 1] == '.';
}

std::string iso_day(std::int64_t t) { return iso8601(t).substr(0, 10); }

// RFC 4034 §3.1.5: RRSIG times are serial numbers (RFC 1982) around `now`.
std::int64_t rrsig_time(const ldns_rdf* rdf, std::int64_t now) {
  auto v = ldns_rdf2native_int32(rdf);
  auto delta = static_cast<std::int32_t>(v - static_cast<std::uint32_t>(now));
  return now + delta;
}

// One parsed, usable reply.
struct Reply {
  const DnsExchange* ex = nullptr;
  Pkt pkt;
};

// What a server gave for one RRset, after checking its signatures.
struct SigResult {
  enum class State { valid, missing, expired, not_yet_valid, bogus, no_key } state = State::missing;
  std::int64_t expires = 0;  // valid: the latest expiration among the valid signatures
  std::string detail;        // for failures: which signature and why
};

SigResult check_signatures(const ldns_rr_list* rrset, const ldns_rr_list* sigs, const ldns_rr_list* keys,
                           std::int64_t now) {
  SigResult r;
  if (ldns_rr_list_rr_count(sigs) == 0) return r;
  int best = 100;  // failure rank: lower explains better
  for (size_t i = 0; i < ldns_rr_list_rr_count(sigs); ++i) {
    const ldns_rr* sig = ldns_rr_list_rr(sigs, i);
    if (ldns_rr_rd_count(sig) < 9) continue;
    ldns_status st = keys ? ldns_verify_rrsig_keylist_time(rrset, sig, keys, static_cast<time_t>(now), nullptr)
                          : LDNS_STATUS_CRYPTO_NO_MATCHING_KEYTAG_DNSKEY;
    auto tag = ldns_rdf2native_int16(ldns_rr_rrsig_keytag(sig));
    std::int64_t exp = rrsig_time(ldns_rr_rrsig_expiration(sig), now);
    std::int64_t inc = rrsig_time(ldns_rr_rrsig_inception(sig), now);
    if (st == LDNS_STATUS_OK) {
      if (r.state != SigResult::State::valid || exp > r.expires) r.expires = exp;
      r.state = SigResult::State::valid;
      continue;
    }
    if (r.state == SigResult::State::valid) continue;
    SigResult::State s;
    std::string why;
    int rank;
    if (st == LDNS_STATUS_CRYPTO_SIG_EXPIRED) {
      s = SigResult::State::expired, rank = 0;
      why = fmt::format("key {} expired {}", tag, iso8601(exp));
    } else if (st == LDNS_STATUS_CRYPTO_SIG_NOT_INCEPTED) {
      s = SigResult::State::not_yet_valid, rank = 1;
      why = fmt::format("key {} valid from {}", tag, iso8601(inc));
    } else if (st == LDNS_STATUS_CRYPTO_NO_MATCHING_KEYTAG_DNSKEY || st == LDNS_STATUS_CRYPTO_NO_DNSKEY) {
      s = SigResult::State::no_key, rank = 3;
      why = fmt::format("key {} not in the DNSKEY RRset", tag);
    } else {
      s = SigResult::State::bogus, rank = 2;
      why = fmt::format("key {}: {}", tag, ldns_get_errorstr_by_id(st));
    }
    if (rank < best) {
      best = rank;
      r.state = s;
      r.detail = why;
    }
  }
  return r;
}

// The records of `section` with this owner and type (clones), and the RRSIGs
// that cover them.
List select(const ldns_rr_list* section, const ldns_rdf* owner, ldns_rr_type type) {
  auto out = new_list();
  for (size_t i = 0; section && i < ldns_rr_list_rr_count(section); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(section, i);
    if (ldns_rr_get_type(rr) != type || ldns_dname_compare(ldns_rr_owner(rr), owner) != 0) continue;
    ldns_rr_list_push_rr(out.get(), ldns_rr_clone(rr));
  }
  return out;
}

List select_sigs(const ldns_rr_list* section, const ldns_rdf* owner, ldns_rr_type covered) {
  auto out = new_list();
  for (size_t i = 0; section && i < ldns_rr_list_rr_count(section); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(section, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_RRSIG || ldns_rr_rd_count(rr) < 9) continue;
    if (ldns_dname_compare(ldns_rr_owner(rr), owner) != 0) continue;
    if (ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) != covered) continue;
    ldns_rr_list_push_rr(out.get(), ldns_rr_clone(rr));
  }
  return out;
}

// The distinct (owner, type) RRsets of a section, RRSIGs and OPT aside.
std::vector<std::pair<const ldns_rdf*, ldns_rr_type>> rrsets_of(const ldns_rr_list* section) {
  std::vector<std::pair<const ldns_rdf*, ldns_rr_type>> out;
  for (size_t i = 0; section && i < ldns_rr_list_rr_count(section); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(section, i);
    auto t = ldns_rr_get_type(rr);
    if (t == LDNS_RR_TYPE_RRSIG || t == LDNS_RR_TYPE_OPT) continue;
    bool seen = false;
    for (auto& [o, ty] : out)
      if (ty == t && ldns_dname_compare(o, ldns_rr_owner(rr)) == 0) seen = true;
    if (!seen) out.emplace_back(ldns_rr_owner(rr), t);
  }
  return out;
}

std::string rdata_text(const ldns_rr* rr) {
  std::string out;
  for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
    char* s = ldns_rdf2str(ldns_rr_rdf(rr, i));
    if (i) out += ' ';
    out += s ? s : "?";
    free(s);
  }
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool same_key(const ldns_rr* a, const ldns_rr* b) {
  if (ldns_rr_rd_count(a) != ldns_rr_rd_count(b)) return false;
  for (size_t i = 0; i < ldns_rr_rd_count(a); ++i)
    if (ldns_rdf_compare(ldns_rr_rdf(a, i), ldns_rr_rdf(b, i)) != 0) return false;
  return true;
}

// Whether a DS (or a DNSKEY trust anchor) designates `key`.
bool designates(const ldns_rr* anchor, const ldns_rr* key) {
  if (ldns_rr_get_type(anchor) == LDNS_RR_TYPE_DNSKEY) return same_key(anchor, key);
  return ldns_rr_compare_ds(anchor, key);
}

int anchor_tag(const ldns_rr* anchor) {
  if (ldns_rr_get_type(anchor) == LDNS_RR_TYPE_DNSKEY) return ldns_calc_keytag(anchor);
  return ldns_rr_rd_count(anchor) > 0 ? ldns_rdf2native_int16(ldns_rr_rdf(anchor, 0)) : 0;
}

// Raw findings before they are grouped by zone and server.
struct Issue {
  std::string code, zone, address, detail;
  std::optional<Severity> severity;  // overrides the catalog
};

const DnssecReason* reason(std::string_view code) {
  for (const auto& r : dnssec_reasons())
    if (r.code == code) return &r;
  return nullptr;
}

std::string server_label(const ZoneObservation& z, const std::string& address) {
  for (const auto& s : z.servers)
    if (s.address == address) return fmt::format("{} ({})", s.name, s.address);
  return address;
}

class ZoneAudit {
 public:
  ZoneAudit(const DnssecAuditInput& in, const ZoneObservation& z, std::vector<Issue>& issues,
            std::map<std::string, List>& keys_by_zone, std::map<std::string, std::string>& status_by_zone)
      : in_(in), z_(z), issues_(issues), keys_by_zone_(keys_by_zone), status_by_zone_(status_by_zone) {
    apex_.reset(ldns_dname_new_frm_str(z.zone == "." ? "." : (z.zone + ".").c_str()));
  }

  DnssecZoneReport run() {
    report_.name = z_.zone;
    report_.parent = z_.parent;
    classify_replies();
    if (!apex_) return report_;
    for (const auto& name : z_.names_without_address) issue("ns-no-address", "*", name);
    find_ds();
    audit_keys();
    audit_rrsets();
    audit_serials();
    audit_tlsa();
    audit_nsec3();
    return std::move(report_);
  }

 private:
  void issue(std::string code, std::string address, std::string detail, std::optional<Severity> sev = {}) {
    issues_.push_back({std::move(code), z_.zone, std::move(address), std::move(detail), sev});
  }
  void issue_parent(std::string code, std::string address, std::string detail) {
    issues_.push_back({std::move(code), z_.parent, std::move(address), std::move(detail), std::nullopt});
  }

  DnssecServerReport& server(const std::string& address) {
    for (auto& s : report_.servers)
      if (s.address == address) return s;
    report_.servers.push_back({});
    report_.servers.back().address = address;
    for (const auto& s : z_.servers)
      if (s.address == address) report_.servers.back().name = s.name;
    return report_.servers.back();
  }

  // Usable replies: parsed, NOERROR or NXDOMAIN, authoritative (or the DS
  // answer from the parent), not truncated. The state per transport is the
  // worst thing seen on it.
  void classify_replies() {
    for (const auto& s : z_.servers) server(s.address);
    std::map<std::string, std::map<DnsTransport, std::vector<std::string>>> seen;
    for (const auto& ex : z_.exchanges) {
      auto state = take(ex, own_);
      // A query our own deadline stopped says nothing about the server.
      if (state != "deadline" && state != "unsent") seen[ex.address][ex.transport].push_back(state);
    }
    for (const auto& ex : z_.parent_exchanges) take(ex, parent_);
    for (auto& s : report_.servers) {
      auto& per = seen[s.address];
      auto worst = [](const std::vector<std::string>& v) -> std::string {
        if (v.empty()) return "not-asked";
        for (const char* w :
             {"unreachable", "timeout", "malformed", "refused", "servfail", "not-authoritative", "truncated"})
          if (std::find(v.begin(), v.end(), w) != v.end()) return w;
        return "ok";
      };
      s.udp = worst(per[DnsTransport::udp]);
      s.tcp = worst(per[DnsTransport::tcp]);
      auto all = per[DnsTransport::udp];
      all.insert(all.end(), per[DnsTransport::tcp].begin(), per[DnsTransport::tcp].end());
      bool any_answer = std::any_of(all.begin(), all.end(), [](const std::string& x) {
        return x == "ok" || x == "truncated" || x == "refused" || x == "servfail" || x == "not-authoritative" ||
               x == "malformed";
      });
      if (all.empty()) continue;
      if (!any_answer) {
        bool timeouts = std::find(all.begin(), all.end(), "timeout") != all.end();
        issue(timeouts ? "ns-timeout" : "ns-unreachable", s.address,
              timeouts ? "UDP and TCP" : detail_of(s.address, "unreachable"));
        continue;
      }
      if (s.udp == "ok" && (s.tcp == "timeout" || s.tcp == "unreachable"))
        issue("ns-tcp-failed", s.address, "TCP " + s.tcp);
      for (const char* w : {"refused", "servfail", "not-authoritative"})
        if (std::find(all.begin(), all.end(), w) != all.end()) {
          issue("ns-not-authoritative", s.address, w);
          break;
        }
      if (std::find(all.begin(), all.end(), "malformed") != all.end())
        issue("ns-malformed", s.address, detail_of(s.address, "malformed"));
    }
  }

  std::string detail_of(const std::string& address, const std::string& failure) const {
    for (const auto& ex : z_.exchanges)
      if (ex.address == address && ex.failure == failure && !ex.detail.empty()) return ex.detail;
    return failure;
  }

  std::string take(const DnsExchange& ex, std::vector<Reply>& into) {
    if (!ex.failure.empty()) return ex.failure;
    ldns_pkt* p = nullptr;
    if (ldns_wire2pkt(&p, ex.reply.data(), ex.reply.size()) != LDNS_STATUS_OK || !p) return "malformed";
    Pkt pkt(p);
    if (ldns_pkt_tc(p)) return "truncated";
    auto rc = ldns_pkt_get_rcode(p);
    if (rc == LDNS_RCODE_REFUSED) return "refused";
    if (rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN) return "servfail";
    if (!ldns_pkt_aa(p)) return "not-authoritative";
    into.push_back({&ex, std::move(pkt)});
    return "ok";
  }

  // The first usable reply from `address` for (qname, qtype): UDP when it was
  // usable, else TCP.
  const Reply* reply_for(const std::vector<Reply>& from, const std::string& address, const std::string& qname,
                         std::uint16_t qtype) const {
    const Reply* found = nullptr;
    for (const auto& r : from) {
      if (r.ex->address != address || r.ex->qname != qname || r.ex->qtype != qtype) continue;
      if (!found || r.ex->transport == DnsTransport::udp) found = &r;
    }
    return found;
  }

  std::vector<std::string> addresses() const {
    std::vector<std::string> out;
    for (const auto& s : z_.servers) out.push_back(s.address);
    return out;
  }

  // The DS RRset (or, for the root, the trust anchors), from every parent
  // server that answered; its signatures are checked against the parent's keys.
  void find_ds() {
    ds_ = new_list();
    if (z_.parent.empty()) {
      for (const auto& ta : in_.trust_anchors) {
        ldns_rr* rr = nullptr;
        if (ldns_rr_new_frm_str(&rr, ta.c_str(), 3600, nullptr, nullptr) != LDNS_STATUS_OK || !rr) continue;
        auto t = ldns_rr_get_type(rr);
        if ((t == LDNS_RR_TYPE_DS || t == LDNS_RR_TYPE_DNSKEY) &&
            ldns_dname_compare(ldns_rr_owner(rr), apex_.get()) == 0)
          add_ds(rr);
        ldns_rr_free(rr);
      }
      signed_ = ldns_rr_list_rr_count(ds_.get()) > 0;
      return;
    }
    std::string parent_status = status_by_zone_.count(z_.parent) ? status_by_zone_[z_.parent] : "unknown";
    const ldns_rr_list* parent_keys = keys_by_zone_.count(z_.parent) ? keys_by_zone_[z_.parent].get() : nullptr;
    for (const auto& r : parent_) {
      if (r.ex->qtype != LDNS_RR_TYPE_DS) continue;
      auto* answer = ldns_pkt_answer(r.pkt.get());
      auto ds = select(answer, apex_.get(), LDNS_RR_TYPE_DS);
      for (size_t i = 0; i < ldns_rr_list_rr_count(ds.get()); ++i) add_ds(ldns_rr_list_rr(ds.get(), i));
      if (ldns_rr_list_rr_count(ds.get()) > 0 && parent_status != "insecure") {
        auto sigs = select_sigs(answer, apex_.get(), LDNS_RR_TYPE_DS);
        note_sig(check_signatures(ds.get(), sigs.get(), parent_keys, in_.now), "DS " + z_.zone, r.ex->address, true);
      }
    }
    signed_ = ldns_rr_list_rr_count(ds_.get()) > 0;
    if (parent_status == "insecure" && !signed_) insecure_parent_ = true;
  }

  void add_ds(const ldns_rr* rr) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(ds_.get()); ++i)
      if (same_key(ldns_rr_list_rr(ds_.get(), i), rr)) return;
    ldns_rr_list_push_rr(ds_.get(), ldns_rr_clone(rr));
  }

  // Per server: its DNSKEY RRset against the DS, and the DNSKEY signatures
  // made with the keys the DS designates.
  void audit_keys() {
    keys_ = new_list();
    std::set<int> matched_any;  // DS tags matched on some server
    std::set<int> signing_tags;
    bool bogus = false, any = false;
    for (const auto& address : addresses()) {
      const Reply* r = reply_for(own_, address, z_.zone, LDNS_RR_TYPE_DNSKEY);
      if (!r) continue;
      auto* answer = ldns_pkt_answer(r->pkt.get());
      auto keys = select(answer, apex_.get(), LDNS_RR_TYPE_DNSKEY);
      std::size_t n = ldns_rr_list_rr_count(keys.get());
      for (size_t i = 0; i < n; ++i) {
        auto* k = ldns_rr_list_rr(keys.get(), i);
        bool dup = false;
        for (size_t j = 0; j < ldns_rr_list_rr_count(keys_.get()); ++j)
          if (same_key(ldns_rr_list_rr(keys_.get(), j), k)) dup = true;
        if (!dup) ldns_rr_list_push_rr(keys_.get(), ldns_rr_clone(k));
      }
      server(address).serves.push_back(fmt::format("DNSKEY {} record{}", n, n == 1 ? "" : "s"));
      if (!signed_) continue;
      any = true;
      std::size_t ds_count = ldns_rr_list_rr_count(ds_.get());
      if (n == 0) {
        issue("dnskey-missing", address,
              fmt::format("{} DS record{} at the parent", ds_count, ds_count == 1 ? "" : "s"));
        bogus = true;
        continue;
      }
      auto designated = new_list();
      std::vector<int> stale;
      for (size_t d = 0; d < ds_count; ++d) {
        auto* ds = ldns_rr_list_rr(ds_.get(), d);
        bool hit = false;
        for (size_t i = 0; i < n; ++i) {
          auto* k = ldns_rr_list_rr(keys.get(), i);
          if (!designates(ds, k)) continue;
          hit = true;
          ldns_rr_list_push_rr(designated.get(), ldns_rr_clone(k));
        }
        if (hit)
          matched_any.insert(anchor_tag(ds));
        else
          stale.push_back(anchor_tag(ds));
      }
      auto tags_text = [&](const ldns_rr_list* l) {
        std::vector<std::string> t;
        for (size_t i = 0; i < ldns_rr_list_rr_count(l); ++i)
          t.push_back(std::to_string(ldns_calc_keytag(ldns_rr_list_rr(l, i))));
        return fmt::format("{}", fmt::join(t, ", "));
      };
      if (ldns_rr_list_rr_count(designated.get()) == 0) {
        std::vector<std::string> ds_tags;
        for (size_t d = 0; d < ds_count; ++d)
          ds_tags.push_back(std::to_string(anchor_tag(ldns_rr_list_rr(ds_.get(), d))));
        issue(z_.parent.empty() ? "trust-anchor-no-match" : "ds-no-match", address,
              fmt::format("DS key tag {}; DNSKEY key tag {}", fmt::join(ds_tags, ", "), tags_text(keys.get())));
        bogus = true;
        continue;
      }
      if (!stale.empty() && !z_.parent.empty()) {
        std::vector<std::string> t;
        for (int s : stale) t.push_back(std::to_string(s));
        issue("ds-stale", address, fmt::format("DS key tag {} matches no DNSKEY", fmt::join(t, ", ")));
      }
      auto sigs = select_sigs(answer, apex_.get(), LDNS_RR_TYPE_DNSKEY);
      // Only signatures by a designated key count for the chain (RFC 4035 §5.2).
      auto by_designated = new_list();
      for (size_t i = 0; i < ldns_rr_list_rr_count(sigs.get()); ++i) {
        auto* sig = ldns_rr_list_rr(sigs.get(), i);
        auto tag = ldns_rdf2native_int16(ldns_rr_rrsig_keytag(sig));
        bool ok = false;
        for (size_t j = 0; j < ldns_rr_list_rr_count(designated.get()); ++j)
          if (ldns_calc_keytag(ldns_rr_list_rr(designated.get(), j)) == tag) ok = true;
        if (ok) ldns_rr_list_push_rr(by_designated.get(), ldns_rr_clone(sig));
      }
      if (ldns_rr_list_rr_count(by_designated.get()) == 0) {
        issue("dnskey-unsigned-by-ds-key", address,
              fmt::format("DS designates key tag {}; the RRSIGs over DNSKEY are by {}", tags_text(designated.get()),
                          sigs_tags(sigs.get())));
        bogus = true;
        continue;
      }
      auto res = check_signatures(keys.get(), by_designated.get(), designated.get(), in_.now);
      if (res.state == SigResult::State::valid) {
        for (size_t j = 0; j < ldns_rr_list_rr_count(designated.get()); ++j)
          signing_tags.insert(ldns_calc_keytag(ldns_rr_list_rr(designated.get(), j)));
      } else {
        bogus = true;
      }
      note_sig(res, "DNSKEY " + z_.zone, address, false);
    }
    for (size_t d = 0; d < ldns_rr_list_rr_count(ds_.get()); ++d) {
      auto* ds = ldns_rr_list_rr(ds_.get(), d);
      DnssecDs out;
      out.key_tag = anchor_tag(ds);
      if (ldns_rr_get_type(ds) == LDNS_RR_TYPE_DS && ldns_rr_rd_count(ds) >= 4) {
        out.algorithm = ldns_rdf2native_int8(ldns_rr_rdf(ds, 1));
        out.digest_type = ldns_rdf2native_int8(ldns_rr_rdf(ds, 2));
        auto* dg = ldns_rr_rdf(ds, 3);
        out.digest = to_hex(std::vector<std::uint8_t>(ldns_rdf_data(dg), ldns_rdf_data(dg) + ldns_rdf_size(dg)));
      } else if (ldns_rr_rd_count(ds) >= 3) {
        out.algorithm = ldns_rdf2native_int8(ldns_rr_rdf(ds, 2));
      }
      out.matches = matched_any.count(out.key_tag) > 0;
      report_.ds.push_back(out);
    }
    for (size_t i = 0; i < ldns_rr_list_rr_count(keys_.get()); ++i) {
      auto* k = ldns_rr_list_rr(keys_.get(), i);
      DnssecKey out;
      out.key_tag = ldns_calc_keytag(k);
      out.flags = ldns_rdf2native_int16(ldns_rr_rdf(k, 0));
      out.algorithm = ldns_rdf2native_int8(ldns_rr_rdf(k, 2));
      out.signs_dnskey = signing_tags.count(out.key_tag) > 0;
      report_.dnskeys.push_back(out);
    }
    if (!signed_)
      report_.status = (insecure_parent_ || !z_.parent.empty()) ? "insecure" : "unknown";
    else if (!any)
      report_.status = "unknown";
    else
      report_.status = bogus ? "bogus" : "secure";
    if (signed_ && status_by_zone_.count(z_.parent) && status_by_zone_[z_.parent] == "bogus") report_.status = "bogus";
    if (!z_.parent.empty() && !signed_ && status_by_zone_.count(z_.parent) && status_by_zone_[z_.parent] == "unknown")
      report_.status = "unknown";
    status_by_zone_[z_.zone] = report_.status;
    keys_by_zone_[z_.zone] = List(ldns_rr_list_clone(keys_.get()));
  }

  static std::string sigs_tags(const ldns_rr_list* sigs) {
    std::vector<std::string> t;
    for (size_t i = 0; i < ldns_rr_list_rr_count(sigs); ++i)
      t.push_back(std::to_string(ldns_rdf2native_int16(ldns_rr_rrsig_keytag(ldns_rr_list_rr(sigs, i)))));
    return t.empty() ? "none" : fmt::format("{}", fmt::join(t, ", "));
  }

  // Turns one RRset's signature check into an issue (or the expiry watch).
  void note_sig(const SigResult& r, const std::string& what, const std::string& address, bool parent) {
    auto add = [&](const char* code, const std::string& detail) {
      if (parent)
        issue_parent(code, address, detail);
      else
        issue(code, address, detail);
    };
    switch (r.state) {
      case SigResult::State::valid: {
        std::int64_t left = r.expires - in_.now;
        if (left < static_cast<std::int64_t>(in_.warn_days) * 86400) {
          auto key = std::make_pair(parent, address);
          auto& [when, name] = expiring_[key];
          if (when == 0 || r.expires < when) {
            when = r.expires;
            name = what;
          }
        }
        return;
      }
      case SigResult::State::missing: add("rrsig-missing", what + " has no RRSIG"); return;
      case SigResult::State::expired: add("ns-rrsig-expired", what + " (" + r.detail + ")"); return;
      case SigResult::State::not_yet_valid: add("rrsig-not-yet-valid", what + " (" + r.detail + ")"); return;
      case SigResult::State::bogus: add("rrsig-bogus", what + " (" + r.detail + ")"); return;
      case SigResult::State::no_key: add("rrsig-no-key", what + " (" + r.detail + ")"); return;
    }
  }

  // Every other reply: each answer RRset's signatures, and for denials the
  // NSEC/NSEC3 records that must come with them.
  void audit_rrsets() {
    for (const auto& address : addresses()) {
      std::set<std::pair<std::string, std::uint16_t>> done;
      for (const auto& r : own_) {
        if (r.ex->address != address) continue;
        if (!done.insert({r.ex->qname, r.ex->qtype}).second) continue;
        const Reply* best = reply_for(own_, address, r.ex->qname, r.ex->qtype);
        audit_reply(*best, address);
      }
    }
    for (auto& [key, v] : expiring_) {
      std::int64_t days = (v.first - in_.now) / 86400;
      std::string detail =
          fmt::format("{} expires {} ({} day{} left)", v.second, iso8601(v.first), days, days == 1 ? "" : "s");
      if (key.first)
        issue_parent("rrsig-expiring", key.second, detail);
      else
        issue("rrsig-expiring", key.second, detail);
    }
  }

  void audit_reply(const Reply& r, const std::string& address) {
    auto* pkt = r.pkt.get();
    auto* answer = ldns_pkt_answer(pkt);
    auto* authority = ldns_pkt_authority(pkt);
    auto& srv = server(address);
    Rdf qname(ldns_dname_new_frm_str(r.ex->qname == "." ? "." : (r.ex->qname + ".").c_str()));
    if (!qname) return;
    auto qtype = static_cast<ldns_rr_type>(r.ex->qtype);
    auto data = select(answer, qname.get(), qtype);
    std::size_t n = ldns_rr_list_rr_count(data.get());
    if (qtype == LDNS_RR_TYPE_SOA && n > 0) {
      auto* soa = ldns_rr_list_rr(data.get(), 0);
      if (ldns_rr_rd_count(soa) >= 3) srv.soa_serial = ldns_rdf2native_int32(ldns_rr_rdf(soa, 2));
    }
    if (qtype == LDNS_RR_TYPE_TLSA) {
      std::vector<std::string> rd;
      for (size_t i = 0; i < n; ++i) rd.push_back(rdata_text(ldns_rr_list_rr(data.get(), i)));
      std::sort(rd.begin(), rd.end());
      tlsa_[r.ex->qname][address] = rd;
    }
    if (qtype == LDNS_RR_TYPE_NSEC3PARAM) {
      for (size_t i = 0; i < n; ++i) note_nsec3(ldns_rr_list_rr(data.get(), i), address);
    }
    for (size_t i = 0; authority && i < ldns_rr_list_rr_count(authority); ++i) {
      auto* rr = ldns_rr_list_rr(authority, i);
      if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NSEC3) note_nsec3(rr, address);
    }
    std::string denial;
    auto cname = select(answer, qname.get(), LDNS_RR_TYPE_CNAME);
    if (qtype != LDNS_RR_TYPE_DNSKEY) {
      if (n == 0 && ldns_rr_list_rr_count(cname.get()) > 0 && ldns_rr_rd_count(ldns_rr_list_rr(cname.get(), 0)) > 0) {
        // An alias: the denial, if any, is the target's zone's to prove.
        srv.serves.push_back(fmt::format("{} {}: CNAME {}", type_name(qtype), r.ex->qname,
                                         name_of(ldns_rr_rdf(ldns_rr_list_rr(cname.get(), 0), 0))));
      } else if (n > 0) {
        srv.serves.push_back(fmt::format("{} {}: {} record{}", type_name(qtype), r.ex->qname, n, n == 1 ? "" : "s"));
      } else {
        denial = ldns_pkt_get_rcode(pkt) == LDNS_RCODE_NXDOMAIN ? "NXDOMAIN" : "NODATA";
        srv.serves.push_back(fmt::format("{} {}: {}", type_name(qtype), r.ex->qname, denial));
      }
    }
    if (!signed_ || report_.status == "insecure") return;
    const ldns_rr_list* keys = keys_.get();
    if (qtype != LDNS_RR_TYPE_DNSKEY) {
      for (auto [owner, type] : rrsets_of(answer)) {
        if (!in_zone(name_of(owner), z_.zone)) continue;
        auto set = select(answer, owner, type);
        auto sigs = select_sigs(answer, owner, type);
        auto res = check_signatures(set.get(), sigs.get(), keys, in_.now);
        // A TLSA RRset that does not validate is reported as such, and is no
        // side in the servers' agreement on TLSA.
        if (type == LDNS_RR_TYPE_TLSA && res.state != SigResult::State::valid && res.state != SigResult::State::expired)
          tlsa_unusable_[name_of(owner)].insert(address);
        note_sig(res, fmt::format("{} {}", type_name(type), name_of(owner)), address, false);
      }
    }
    if (denial.empty()) return;
    bool proof = false;
    for (auto [owner, type] : rrsets_of(authority)) {
      if (type != LDNS_RR_TYPE_NSEC && type != LDNS_RR_TYPE_NSEC3 && type != LDNS_RR_TYPE_SOA) continue;
      if (!in_zone(name_of(owner), z_.zone)) continue;
      if (type != LDNS_RR_TYPE_SOA) proof = true;
      auto set = select(authority, owner, type);
      auto sigs = select_sigs(authority, owner, type);
      note_sig(check_signatures(set.get(), sigs.get(), keys, in_.now),
               fmt::format("{} {} (denial of {} {})", type_name(type), name_of(owner), type_name(qtype), r.ex->qname),
               address, false);
    }
    if (!proof)
      issue("denial-unsigned", address,
            fmt::format("{} {} {} without NSEC or NSEC3", denial, type_name(qtype), r.ex->qname));
  }

  void note_nsec3(const ldns_rr* rr, const std::string& address) {
    if (ldns_rr_rd_count(rr) < 4) return;
    int iterations = ldns_rdf2native_int16(ldns_rr_rdf(rr, 2));
    auto* salt = ldns_rr_rdf(rr, 3);
    int salt_len = salt && ldns_rdf_size(salt) > 0 ? ldns_rdf_data(salt)[0] : 0;
    auto& v = nsec3_[address];
    v.first = std::max(v.first, iterations);
    v.second = std::max(v.second, salt_len);
  }

  void audit_nsec3() {
    std::map<std::string, std::vector<std::string>> by_detail;
    for (auto& [address, v] : nsec3_) {
      if (v.first == 0) continue;
      std::string d = fmt::format("{} extra iteration{}{}", v.first, v.first == 1 ? "" : "s",
                                  v.second ? fmt::format(" and a {}-byte salt", v.second) : "");
      // A warning even above 150: validators then treat the zone's denials as
      // insecure, not bogus, and its direct answers stay secure (docs/lab-notes).
      if (v.first > 150) d += ", more than the 150 Debian 12's unbound and BIND accept: its denials are insecure";
      issue("nsec3-iterations", address, d);
    }
  }

  // RFC 1982 serial arithmetic: the newest serial any server has, and who lags.
  void audit_serials() {
    std::optional<std::uint32_t> newest;
    std::string newest_at;
    for (const auto& s : report_.servers) {
      if (!s.soa_serial) continue;
      if (!newest || static_cast<std::int32_t>(*s.soa_serial - *newest) > 0) {
        newest = s.soa_serial;
        newest_at = s.address;
      }
    }
    if (!newest) return;
    bool differ = std::any_of(report_.servers.begin(), report_.servers.end(),
                              [&](const auto& s) { return s.soa_serial && *s.soa_serial != *newest; });
    if (differ) newest_serial_at_ = newest_at;  // a tie says nothing about who is newer
    for (const auto& s : report_.servers) {
      if (!s.soa_serial || *s.soa_serial == *newest) continue;
      issue("ns-serial-mismatch", s.address,
            fmt::format("{} serves serial {}, {} serves {}", server_label(z_, s.address), *s.soa_serial,
                        server_label(z_, newest_at), *newest));
    }
  }

  void audit_tlsa() {
    for (const auto& [owner, per] : tlsa_) {
      std::map<std::vector<std::string>, std::vector<std::string>> groups;
      for (const auto& [address, set] : per)
        if (!tlsa_unusable_[owner].count(address)) groups[set].push_back(address);
      if (groups.size() < 2) continue;
      // The reference is what the server with the newest serial has; without
      // serials, what most servers have.
      const std::vector<std::string>* reference = nullptr;
      if (per.count(newest_serial_at_) && !tlsa_unusable_[owner].count(newest_serial_at_))
        reference = &per.at(newest_serial_at_);
      if (!reference) {
        std::size_t most = 0;
        for (const auto& [set, who] : groups)
          if (who.size() > most) most = who.size(), reference = &set;
      }
      auto describe = [&](const std::vector<std::string>& set) {
        if (set.empty()) return std::string("no TLSA");
        std::vector<std::string> shown;
        for (const auto& s : set) shown.push_back(s.size() > 24 ? s.substr(0, 24) + "..." : s);
        return fmt::format("{}", fmt::join(shown, "; "));
      };
      std::vector<std::string> parts;
      for (const auto& [set, who] : groups) {
        std::vector<std::string> labels;
        for (const auto& a : who) labels.push_back(server_label(z_, a));
        parts.push_back(
            fmt::format("{} serve{} {}", fmt::join(labels, ", "), who.size() == 1 ? "s" : "", describe(set)));
      }
      std::string detail = fmt::format("TLSA {}: {}", owner, fmt::join(parts, "; while "));
      for (const auto& [set, who] : groups) {
        if (&set == reference || set == *reference) continue;
        for (const auto& a : who) issue("ns-tlsa-inconsistent", a, detail);
      }
    }
  }

  const DnssecAuditInput& in_;
  const ZoneObservation& z_;
  std::vector<Issue>& issues_;
  std::map<std::string, List>& keys_by_zone_;
  std::map<std::string, std::string>& status_by_zone_;
  Rdf apex_;
  DnssecZoneReport report_;
  std::vector<Reply> own_, parent_;
  List ds_, keys_;
  bool signed_ = false, insecure_parent_ = false;
  std::map<std::pair<bool, std::string>, std::pair<std::int64_t, std::string>> expiring_;
  std::map<std::string, std::map<std::string, std::vector<std::string>>> tlsa_;  // owner -> address -> rdata
  std::map<std::string, std::set<std::string>> tlsa_unusable_;                   // owner -> addresses
  std::map<std::string, std::pair<int, int>> nsec3_;                             // address -> iterations, salt
  std::string newest_serial_at_;
};

std::string render_template(std::string_view tmpl, const std::string& zone, const std::string& servers,
                            const std::string& detail) {
  return fmt::format(fmt::runtime(tmpl), fmt::arg("zone", zone), fmt::arg("servers", servers),
                     fmt::arg("detail", detail));
}

int severity_rank(Severity s) { return s == Severity::error ? 0 : s == Severity::warning ? 1 : 2; }

}  // namespace

DnssecReport audit_dnssec(const DnssecAuditInput& in) {
  DnssecReport out;
  out.domain = in.domain;
  out.audited_at = in.now;
  out.notes = in.notes;
  std::vector<Issue> issues;
  std::map<std::string, List> keys_by_zone;
  std::map<std::string, std::string> status_by_zone;
  for (const auto& z : in.zones) out.zones.push_back(ZoneAudit(in, z, issues, keys_by_zone, status_by_zone).run());

  // Group: one finding per (code, zone, server), or one with server "*" when
  // every server of the zone has it.
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::vector<std::string>>> grouped;
  std::map<std::pair<std::string, std::string>, std::optional<Severity>> override;
  std::vector<std::pair<std::string, std::string>> order;
  for (const auto& i : issues) {
    auto key = std::make_pair(i.code, i.zone);
    if (!grouped.count(key)) order.push_back(key);
    auto& d = grouped[key][i.address];
    if (std::find(d.begin(), d.end(), i.detail) == d.end()) d.push_back(i.detail);
    if (i.severity) override[key] = i.severity;
  }
  for (const auto& key : order) {
    const auto& [code, zone] = key;
    const auto* obs = [&]() -> const ZoneObservation* {
      for (const auto& z : in.zones)
        if (z.zone == zone) return &z;
      return nullptr;
    }();
    const auto* row = reason(code);
    if (!row) continue;
    auto& per = grouped[key];
    std::set<std::string> all;
    if (obs)
      for (const auto& s : obs->servers) all.insert(s.address);
    std::set<std::string> have;
    for (const auto& [a, d] : per) have.insert(a);
    auto make = [&](const std::string& server, const std::string& servers_text, const std::string& detail) {
      DnssecFinding f;
      f.code = code;
      f.severity = override[key].value_or(row->severity);
      f.zone = zone;
      f.server = server;
      f.rfc = std::string(row->rfc);
      f.text = render_template(row->text, zone, servers_text, detail);
      f.fix = render_template(row->fix, zone, servers_text, detail);
      out.findings.push_back(std::move(f));
    };
    if (have.count("*") || (!all.empty() && have == all)) {
      std::vector<std::string> details;
      for (const auto& [a, d] : per)
        for (const auto& x : d)
          if (std::find(details.begin(), details.end(), x) == details.end()) details.push_back(x);
      if (details.size() > 4) {
        auto more = details.size() - 3;
        details.resize(3);
        details.push_back(fmt::format("and {} more", more));
      }
      make("*", all.size() == 1 && obs ? server_label(*obs, *all.begin()) : "all servers",
           fmt::format("{}", fmt::join(details, "; ")));
      continue;
    }
    for (const auto& [a, d] : per) {
      std::vector<std::string> details = d;
      if (details.size() > 4) {
        auto more = details.size() - 3;
        details.resize(3);
        details.push_back(fmt::format("and {} more", more));
      }
      make(a, obs ? server_label(*obs, a) : a, fmt::format("{}", fmt::join(details, "; ")));
    }
  }
  std::stable_sort(out.findings.begin(), out.findings.end(), [](const DnssecFinding& a, const DnssecFinding& b) {
    return severity_rank(a.severity) < severity_rank(b.severity);
  });
  return out;
}

bool has_errors(const DnssecReport& r) {
  return std::any_of(r.findings.begin(), r.findings.end(),
                     [](const DnssecFinding& f) { return f.severity == Severity::error; });
}

}  // namespace danekit
