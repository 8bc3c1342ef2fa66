#include "dns/unbound/unbound_resolver.h"

#include <arpa/inet.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>

#include "danekit/keys.h"

// ldns's headers redefine `bool` for C; they come after every C++ header.
#include <ldns/ldns.h>
#include <unbound.h>

namespace danekit {

namespace asio = boost::asio;

namespace {

// IANA root KSKs (https://data.iana.org/root-anchors/root-anchors.xml):
// KSK-2017 (key tag 20326) and KSK-2024 (key tag 38696).
constexpr const char* builtin_root_anchors[] = {
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D",
    ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16",
};

bool is_loopback(const std::string& addr) {
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, addr.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  if (inet_pton(AF_INET6, addr.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

struct FileCloser {
  void operator()(FILE* f) const {
    if (f) std::fclose(f);
  }
};

// Reads a zone-file-format file with ldns and returns its records; the error
// names the file and the fault in one line.
std::vector<ldns_rr*> read_zone_records(const std::string& path, const char* what) {
  // Bounded first (a directory, /dev/zero or a huge file ends here with one
  // line), then parsed from memory.
  auto bytes = read_file_bytes(path);
  if (!bytes) throw ResolverError(fmt::format("cannot read {} file {}", what, bytes.error()));
  if (std::find(bytes->begin(), bytes->end(), std::uint8_t{0}) != bytes->end())
    throw ResolverError(fmt::format("{} file '{}' holds a NUL byte: not a zone file", what, path));
  std::unique_ptr<FILE, FileCloser> f(bytes->empty() ? nullptr : fmemopen(bytes->data(), bytes->size(), "r"));
  if (!f) {
    if (bytes->empty()) throw ResolverError(fmt::format("{} file '{}' is empty", what, path));
    throw ResolverError(fmt::format("cannot read {} file '{}': {}", what, path, std::strerror(errno)));
  }
  std::vector<ldns_rr*> out;
  uint32_t ttl = 3600;
  ldns_rdf* origin = nullptr;
  ldns_rdf* prev = nullptr;
  int line = 1;
  auto cleanup = [&] {
    if (origin) ldns_rdf_deep_free(origin);
    if (prev) ldns_rdf_deep_free(prev);
    origin = prev = nullptr;
  };
  while (!std::feof(f.get())) {
    long before = std::ftell(f.get());
    ldns_rr* rr = nullptr;
    ldns_status st = ldns_rr_new_frm_fp_l(&rr, f.get(), &ttl, &origin, &prev, &line);
    if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL || st == LDNS_STATUS_SYNTAX_ORIGIN) {
      if (std::ftell(f.get()) == before) break;  // no progress: the parser is stuck, stop here
      continue;
    }
    if (st != LDNS_STATUS_OK) {
      for (auto* r : out) ldns_rr_free(r);
      cleanup();
      throw ResolverError(fmt::format("{} file '{}' line {}: {}", what, path, line, ldns_get_errorstr_by_id(st)));
    }
    out.push_back(rr);
    if (out.size() > 10000) break;
  }
  cleanup();
  return out;
}

std::string lower_no_dot(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s.size() > 1 && s.back() == '.') s.pop_back();
  return s;
}

std::string rdf_name(const ldns_rdf* rdf) {
  char* s = ldns_rdf2str(rdf);
  std::string out = s ? s : "";
  free(s);
  return lower_no_dot(out);
}

// The CNAME chain from the full answer packet (the result's own fields only give
// the final name).
std::vector<std::string> cname_chain(const ub_result* res, const std::string& qname) {
  std::vector<std::string> chain;
  if (!res->answer_packet || res->answer_len <= 0) return chain;
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, static_cast<const uint8_t*>(res->answer_packet), static_cast<size_t>(res->answer_len)) !=
      LDNS_STATUS_OK)
    return chain;
  ldns_rr_list* answer = ldns_pkt_answer(pkt);
  std::string current = qname;
  for (int hops = 0; hops < 16; ++hops) {
    bool moved = false;
    for (size_t i = 0; answer && i < ldns_rr_list_rr_count(answer); ++i) {
      ldns_rr* rr = ldns_rr_list_rr(answer, i);
      if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME || ldns_rr_rd_count(rr) < 1) continue;
      if (rdf_name(ldns_rr_owner(rr)) != current) continue;
      current = rdf_name(ldns_rr_rdf(rr, 0));
      chain.push_back(current);
      moved = true;
      break;
    }
    if (!moved) break;
  }
  ldns_pkt_free(pkt);
  return chain;
}

// The SOA that came with the reply: the zone and its negative-caching TTL.
void soa_of(const ub_result* res, Answer& a) {
  if (!res->answer_packet || res->answer_len <= 0) return;
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, static_cast<const uint8_t*>(res->answer_packet), static_cast<size_t>(res->answer_len)) !=
      LDNS_STATUS_OK)
    return;
  for (ldns_rr_list* list : {ldns_pkt_answer(pkt), ldns_pkt_authority(pkt)}) {
    for (size_t i = 0; list && i < ldns_rr_list_rr_count(list); ++i) {
      ldns_rr* rr = ldns_rr_list_rr(list, i);
      if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 7) continue;
      a.soa_zone = rdf_name(ldns_rr_owner(rr));
      std::uint32_t minimum = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
      a.negative_ttl = std::min(ldns_rr_ttl(rr), minimum);
      ldns_pkt_free(pkt);
      return;
    }
  }
  ldns_pkt_free(pkt);
}

Answer classify(const ub_result* res, const std::string& qname, std::uint16_t qtype) {
  Answer a;
  a.qname = qname;
  a.qtype = qtype;
  a.ttl = static_cast<std::uint32_t>(res->ttl > 0 ? res->ttl : 0);
  a.cname_targets = cname_chain(res, qname);
  soa_of(res, a);
  // libunbound may return a bogus answer with NOERROR and data present: only
  // the bogus flag tells (lab-notes trap 3).
  if (res->bogus) {
    a.security = Security::bogus;
    a.kind = AnswerKind::failure;
    a.detail = res->why_bogus ? res->why_bogus : "validation failed";
    return a;
  }
  if (res->rcode != 0 && res->rcode != 3) {
    a.security = Security::indeterminate;
    a.kind = AnswerKind::failure;
    a.detail = res->rcode == 2 ? "SERVFAIL" : fmt::format("rcode {}", res->rcode);
    if (res->rcode == 5) a.detail = "REFUSED";
    return a;
  }
  a.security = res->secure ? Security::secure : Security::insecure;
  if (res->nxdomain) {
    a.kind = AnswerKind::nxdomain;
  } else if (res->havedata) {
    a.kind = AnswerKind::data;
    for (int i = 0; res->data[i]; ++i) {
      auto* p = reinterpret_cast<const std::uint8_t*>(res->data[i]);
      a.rdata.emplace_back(p, p + res->len[i]);
    }
  } else {
    a.kind = AnswerKind::nodata;
  }
  return a;
}

}  // namespace

struct UnboundResolver::Pending {
  std::optional<Answer> answer;
  std::string qname;
  std::uint16_t qtype = 0;
  asio::steady_timer signal;
  explicit Pending(asio::any_io_executor ex) : signal(ex, asio::steady_timer::time_point::max()) {}
};

namespace {

struct CallbackData {
  std::shared_ptr<UnboundResolver::Pending> pending;
};

void on_result(void* mydata, int err, ub_result* result) {
  std::unique_ptr<CallbackData> data(static_cast<CallbackData*>(mydata));
  auto& p = *data->pending;
  if (err != 0 || !result) {
    Answer a;
    a.qname = p.qname;
    a.qtype = p.qtype;
    a.detail = fmt::format("resolver error: {}", ub_strerror(err));
    a.local_cause = err == UB_NOMEM ? "memory" : "resolver";
    p.answer = std::move(a);
  } else {
    p.answer = classify(result, p.qname, p.qtype);
  }
  if (result) ub_resolve_free(result);
  p.signal.cancel();
}

}  // namespace

UnboundResolver::UnboundResolver(asio::any_io_executor ex, const ResolverConfig& config, const UnboundTuning& tuning)
    : fd_(ex) {
  ctx_ = ub_ctx_create();
  if (!ctx_) throw ResolverError("cannot create the libunbound context");
  auto fail = [&](const std::string& msg) {
    ub_ctx_delete(ctx_);
    ctx_ = nullptr;
    if (log_) std::fclose(log_);
    log_ = nullptr;
    throw ResolverError(msg);
  };
  auto set = [&](const char* opt, const std::string& val) {
    int rc = ub_ctx_set_option(ctx_, opt, val.c_str());
    if (rc != 0) fail(fmt::format("libunbound option {} {}: {}", opt, val, ub_strerror(rc)));
  };
  // Quiet: errors reach the user through Answer::detail, not stderr.
  ub_ctx_debuglevel(ctx_, 0);
  // libunbound still prints its own errors ("can't create socket") to stderr
  // at level 0; they reach the user as Answer::detail and local causes instead.
  log_ = std::fopen("/dev/null", "w");
  if (log_) ub_ctx_debugout(ctx_, log_);
  set("use-syslog:", "no");
  set("trust-anchor-signaling:", "no");
  set("val-log-level:", "0");
  if (tuning.outgoing_range > 0) set("outgoing-range:", std::to_string(tuning.outgoing_range));
  if (tuning.queries_per_thread > 0) set("num-queries-per-thread:", std::to_string(tuning.queries_per_thread));
  if (tuning.outgoing_tcp > 0) set("outgoing-num-tcp:", std::to_string(tuning.outgoing_tcp));
  if (!tuning.aggressive_nsec) set("aggressive-nsec:", "no");
  bool loopback = false;

  std::vector<ldns_rr*> anchors;
  if (!config.trust_anchor_file.empty()) {
    try {
      anchors = read_zone_records(config.trust_anchor_file, "trust anchor");
    } catch (const ResolverError& e) {
      fail(e.what());
    }
    std::size_t usable = 0;
    // A DS whose digest has the wrong length for its digest type can never
    // match a key (RFC 4509 §2.2, RFC 6605 §2): say so instead of validating
    // nothing.
    for (auto* rr : anchors) {
      if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_DS || ldns_rr_rd_count(rr) < 4) continue;
      auto type = ldns_rdf2native_int8(ldns_rr_rdf(rr, 2));
      std::size_t want = type == 1 ? 20 : type == 2 ? 32 : type == 4 ? 48 : 0;
      std::size_t have = ldns_rdf_size(ldns_rr_rdf(rr, 3));
      if (want != 0 && have != want) {
        auto tag = ldns_rdf2native_int16(ldns_rr_rdf(rr, 0));
        for (auto* r : anchors) ldns_rr_free(r);
        fail(
            fmt::format("trust anchor file '{}': the DS for key tag {} has a {}-byte digest; digest type {} "
                        "needs {} bytes",
                        config.trust_anchor_file, tag, have, type, want));
      }
    }
    for (auto* rr : anchors) {
      auto t = ldns_rr_get_type(rr);
      if (t == LDNS_RR_TYPE_DS || t == LDNS_RR_TYPE_DNSKEY) {
        char* s = ldns_rr2str(rr);
        int rc = ub_ctx_add_ta(ctx_, s);
        free(s);
        if (rc == 0) ++usable;
      }
      ldns_rr_free(rr);
    }
    if (usable == 0)
      fail(fmt::format("trust anchor file '{}' holds no DS or DNSKEY records", config.trust_anchor_file));
  } else {
    for (const char* ta : builtin_root_anchors) ub_ctx_add_ta(ctx_, ta);
  }

  if (!config.root_hints_file.empty()) {
    std::vector<ldns_rr*> hints;
    try {
      hints = read_zone_records(config.root_hints_file, "root hints");
    } catch (const ResolverError& e) {
      fail(e.what());
    }
    std::size_t ns = 0, addrs = 0;
    for (auto* rr : hints) {
      auto t = ldns_rr_get_type(rr);
      if (t == LDNS_RR_TYPE_NS) ++ns;
      if ((t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA) && ldns_rr_rd_count(rr) > 0) {
        ++addrs;
        char* s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
        if (s && is_loopback(s)) loopback = true;
        free(s);
      }
      ldns_rr_free(rr);
    }
    if (ns == 0 || addrs == 0)
      fail(fmt::format("root hints file '{}' needs NS records and their A or AAAA addresses", config.root_hints_file));
    set("root-hints:", config.root_hints_file);
  }

  if (!config.forwarder.empty()) {
    if (auto err = validate_forwarder(config.forwarder); !err.empty()) fail(err);
    auto addr = config.forwarder.substr(0, config.forwarder.find('@'));
    if (is_loopback(addr)) loopback = true;
    int rc = ub_ctx_set_fwd(ctx_, config.forwarder.c_str());
    if (rc != 0) fail(fmt::format("--resolver {}: {}", config.forwarder, ub_strerror(rc)));
  }
  // libunbound will not query 127.0.0.0/8 or ::1 unless told (lab-notes trap 2).
  if (loopback) set("do-not-query-localhost:", "no");

  int rc = ub_ctx_async(ctx_, 1);
  if (rc != 0) fail(fmt::format("libunbound async mode: {}", ub_strerror(rc)));
}

UnboundResolver::~UnboundResolver() {
  boost::system::error_code ignored;
  if (fd_.is_open()) {
    fd_.cancel(ignored);
    fd_.release();  // the descriptor belongs to libunbound
  }
  if (ctx_) ub_ctx_delete(ctx_);
  if (log_) std::fclose(log_);
}

void UnboundResolver::start_reader() {
  if (reading_ || outstanding_ == 0) return;
  if (!fd_.is_open()) fd_.assign(ub_fd(ctx_));
  reading_ = true;
  fd_.async_wait(asio::posix::stream_descriptor::wait_read, [this](boost::system::error_code ec) {
    reading_ = false;
    if (!ec) ub_process(ctx_);
    // Also after a cancel: a query may have started since (start_reader is a
    // no-op when nothing is outstanding).
    start_reader();
  });
}

asio::awaitable<Answer> UnboundResolver::resolve(std::string name, std::uint16_t type,
                                                 std::chrono::milliseconds timeout) {
  auto ex = co_await asio::this_coro::executor;
  auto pending = std::make_shared<Pending>(ex);
  pending->qname = name;
  pending->qtype = type;
  auto* data = new CallbackData{pending};
  int id = 0;
  int rc = ub_resolve_async(ctx_, name.c_str(), type, 1 /* IN */, data, on_result, &id);
  if (rc != 0) {
    delete data;
    Answer a;
    a.qname = name;
    a.qtype = type;
    a.detail = fmt::format("resolver error: {}", ub_strerror(rc));
    a.local_cause = rc == UB_NOMEM ? "memory" : "resolver";
    co_return a;
  }
  ++outstanding_;
  start_reader();
  if (!pending->answer) {
    pending->signal.expires_after(timeout);
    boost::system::error_code ec;
    co_await pending->signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  --outstanding_;
  if (outstanding_ == 0 && reading_) {
    boost::system::error_code ignored;
    fd_.cancel(ignored);
  }
  if (pending->answer) co_return std::move(*pending->answer);
  // Deadline: cancel the query. If libunbound already queued the result, the
  // callback still runs later and frees its data; otherwise we free it here.
  if (ub_cancel(ctx_, id) == 0) delete data;
  Answer a;
  a.qname = name;
  a.qtype = type;
  a.detail = fmt::format("no answer within {} ms", timeout.count());
  co_return a;
}

std::string validate_forwarder(const std::string& spec) {
  auto at = spec.find('@');
  std::string addr = spec.substr(0, at);
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, addr.c_str(), &v4) != 1 && inet_pton(AF_INET6, addr.c_str(), &v6) != 1)
    return fmt::format("--resolver '{}': '{}' is not an IPv4 or IPv6 address", spec, addr);
  if (at != std::string::npos) {
    auto port = spec.substr(at + 1);
    int value = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || value > 65535) return fmt::format("--resolver '{}': bad port '{}'", spec, port);
      value = value * 10 + (c - '0');
    }
    if (port.empty() || value < 1 || value > 65535) return fmt::format("--resolver '{}': port must be 1-65535", spec);
  }
  return {};
}

}  // namespace danekit
