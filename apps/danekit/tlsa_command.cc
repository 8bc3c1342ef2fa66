// danekit tlsa generate | verify (docs/tlsa.md)
#include <fmt/format.h>
#include <cstdio>
#include <ctime>
#include <memory>

#include <boost/asio/ip/address.hpp>

#include "commands.h"
#include "danekit/dns.h"
#include "danekit/keys.h"
#include "danekit/probe.h"
#include "danekit/resolver.h"
#include "danekit/tlsa_generate.h"

namespace danekit::cli {

namespace {

// Exit status when a server or the DNS could not be reached (docs/cli.md).
constexpr int unreachable_status = exit_status::undetermined;

struct SourceFlags {
  std::string cert, key, pubkey, csr, server;
};

struct ServerSpec {
  std::string host;
  std::uint16_t port = 25;
  bool literal = false;
  std::string text() const {
    return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
  }
};

// HOST, HOST:PORT, [V6]:PORT or a bare IPv6 literal.
tl::expected<ServerSpec, std::string> parse_server(const std::string& spec) {
  ServerSpec s;
  std::string port;
  if (!spec.empty() && spec[0] == '[') {
    auto close = spec.find(']');
    if (close == std::string::npos) return tl::unexpected(fmt::format("--server {}: missing ']'", spec));
    s.host = spec.substr(1, close - 1);
    if (close + 1 < spec.size()) {
      if (spec[close + 1] != ':') return tl::unexpected(fmt::format("--server {}: expected :PORT after ']'", spec));
      port = spec.substr(close + 2);
    }
  } else if (std::count(spec.begin(), spec.end(), ':') == 1) {
    s.host = spec.substr(0, spec.find(':'));
    port = spec.substr(spec.find(':') + 1);
  } else {
    s.host = spec;
  }
  if (s.host.empty()) return tl::unexpected(fmt::format("--server '{}': no host", spec));
  if (!port.empty()) {
    unsigned long p = 0;
    try {
      std::size_t used = 0;
      p = std::stoul(port, &used);
      if (used != port.size()) p = 0;
    } catch (const std::exception&) {
      p = 0;
    }
    if (p < 1 || p > 65535) return tl::unexpected(fmt::format("--server {}: port must be 1-65535", spec));
    s.port = static_cast<std::uint16_t>(p);
  }
  boost::system::error_code ec;
  boost::asio::ip::make_address(s.host, ec);
  s.literal = !ec;
  if (!s.literal) {
    auto n = normalize_domain(s.host);
    if (!n) return tl::unexpected(fmt::format("--server {}: {}", spec, n.error()));
    s.host = *n;
  }
  return s;
}

ResolverConfig resolver_of(const ResolverFlags& f) {
  ResolverConfig c;
  c.trust_anchor_file = f.trust_anchor;
  c.root_hints_file = f.root_hints;
  c.forwarder = f.forwarder;
  return c;
}

void warn(const std::string& text) { fmt::print(stderr, "danekit: warning: {}\n", text); }

// A file-based source: --cert (with an optional matching --key), --key,
// --pubkey or --csr. Errors are complete lines after "danekit: ".
tl::expected<KeySource, std::string> load_file_source(const SourceFlags& f) {
  KeySource s;
  if (!f.cert.empty()) {
    auto chain = load_certificates(f.cert);
    if (!chain) return tl::unexpected("--cert " + chain.error());
    s.name = "--cert " + f.cert;
    s.chain = std::move(*chain);
    s.spki = s.chain.front().spki_der;
    if (!f.key.empty()) {
      auto key = load_private_key(f.key);
      if (!key) return tl::unexpected("--key " + key.error());
      if (!same_public_key(*key, s.spki))
        return tl::unexpected(
            fmt::format("--key {}: the key does not match the certificate in --cert {}", f.key, f.cert));
    }
    return s;
  }
  if (!f.key.empty()) {
    auto key = load_private_key(f.key);
    if (!key) return tl::unexpected("--key " + key.error());
    s.name = "--key " + f.key;
    s.spki = std::move(*key);
  } else if (!f.pubkey.empty()) {
    auto key = load_public_key(f.pubkey);
    if (!key) return tl::unexpected("--pubkey " + key.error());
    s.name = "--pubkey " + f.pubkey;
    s.spki = std::move(*key);
  } else if (!f.csr.empty()) {
    auto key = load_csr(f.csr);
    if (!key) return tl::unexpected("--csr " + key.error());
    s.name = "--csr " + f.csr;
    s.spki = std::move(*key);
  }
  return s;
}

// Exactly one input, except that --key may accompany --cert to check the pair.
std::optional<std::string> check_sources(const SourceFlags& f) {
  int n = !f.cert.empty() + !f.key.empty() + !f.pubkey.empty() + !f.csr.empty() + !f.server.empty();
  if (n == 2 && !f.cert.empty() && !f.key.empty()) return std::nullopt;
  if (n == 0) return std::string("give one of --cert, --key, --pubkey, --csr or --server");
  if (n > 1)
    return std::string("give only one of --cert, --key, --pubkey, --csr or --server (--key may go with --cert)");
  return std::nullopt;
}

void add_source_flags(CLI::App& cmd, SourceFlags& f) {
  cmd.add_option("--cert", f.cert, "Certificate, PEM or DER; a PEM chain is leaf first");
  cmd.add_option("--key", f.key, "Unencrypted private key, PEM or DER (with --cert: must match it)");
  cmd.add_option("--pubkey", f.pubkey, "Public key (SubjectPublicKeyInfo), PEM or DER");
  cmd.add_option("--csr", f.csr, "PKCS#10 certificate request, PEM or DER");
  cmd.add_option("--server", f.server, "Live server HOST[:PORT] (25 and 587 STARTTLS, 465 implicit TLS)");
}

std::vector<ProbeResult> probe(const ServerSpec& s, const std::string& sni, std::vector<TlsaRecord> records,
                               const ResolverFlags& rf, double timeout, std::string& error) {
  ServerProbeOptions opt;
  opt.port = s.port;
  opt.implicit_tls = s.port == 465;
  opt.sni = sni;
  opt.records = std::move(records);
  opt.timeout = std::chrono::milliseconds(static_cast<long>(timeout * 1000));
  return probe_server(s.host, opt, resolver_of(rf), error);
}

// ---- generate ----------------------------------------------------------------

struct GenerateArgs {
  SourceFlags source;
  ResolverFlags resolver;
  std::string usage = "3", selector = "1", mtype = "1", host;
  FormatFlags format{"zone"};
  int depth = 0;
  bool ta = false, depth_given = false, usage_given = false, port_given = false;
  int port = 25;
  long ttl = -1;
  double timeout = 20;
};

int run_generate(const GenerateArgs& a) {
  if (auto bad = check_sources(a.source)) return usage_error(*bad);
  GenerateParams p;
  auto u = parse_usage(a.usage);
  if (!u) return usage_error("--usage: " + u.error());
  auto s = parse_selector(a.selector);
  if (!s) return usage_error("--selector: " + s.error());
  auto m = parse_mtype(a.mtype);
  if (!m) return usage_error("--mtype: " + m.error());
  p.usage = *u;
  p.selector = *s;
  p.mtype = *m;
  if (a.depth < 0 || a.depth > 16) return usage_error("--depth must be between 0 and 16");
  p.depth = static_cast<std::size_t>(a.depth);
  if (a.ta) {
    if (a.usage_given && p.usage != usage::dane_ta) return usage_error("--ta means usage 2 (DANE-TA); drop --usage");
    p.usage = usage::dane_ta;
    if (!a.depth_given) p.depth = 1;
  }
  std::string format_error;
  auto format_name = chosen_format(a.format, {"text", "zone", "generic", "json"}, format_error);
  if (!format_error.empty()) return usage_error(format_error);
  if (a.port < 1 || a.port > 65535) return usage_error("--port must be between 1 and 65535");
  if (a.ttl < -1 || a.ttl > 2147483647) return usage_error("--ttl must be between 0 and 2147483647");
  if (!(a.timeout >= 1 && a.timeout <= 600)) return usage_error("--timeout must be between 1 and 600 seconds");

  KeySource source;
  std::vector<KeySource> other_addresses;
  std::string owner_host = a.host;
  std::uint16_t owner_port = static_cast<std::uint16_t>(a.port);
  if (!a.source.server.empty()) {
    auto spec = parse_server(a.source.server);
    if (!spec) return usage_error(spec.error());
    if (owner_host.empty() && !spec->literal) owner_host = spec->host;
    if (!a.port_given) owner_port = spec->port;
    std::string error;
    std::vector<ProbeResult> results;
    try {
      results = probe(*spec, a.host.empty() && !spec->literal ? spec->host : a.host, {}, a.resolver, a.timeout, error);
    } catch (const ResolverError& e) {
      return usage_error(e.what());
    }
    if (!error.empty()) {
      fmt::print(stderr, "danekit: --server {}: {}\n", spec->text(), error);
      return unreachable_status;
    }
    for (const auto& r : results) {
      if (r.chain.empty()) continue;
      KeySource k{fmt::format("--server {} ({})", spec->text(), r.address), r.chain, r.chain.front().spki_der};
      if (source.chain.empty()) {
        source = std::move(k);
      } else {
        other_addresses.push_back(std::move(k));
      }
    }
    if (source.chain.empty()) {
      const auto& r = results.front();
      fmt::print(stderr, "danekit: --server {}: {}: {} at {} ({})\n", spec->text(), r.address, to_string(r.outcome),
                 r.stage, r.detail);
      return unreachable_status;
    }
  } else {
    auto loaded = load_file_source(a.source);
    if (!loaded) return usage_error(loaded.error());
    source = std::move(*loaded);
  }

  auto gen = generate_tlsa(source, p);
  if (!gen) return usage_error(gen.error());
  for (const auto& other : other_addresses) {
    auto g = generate_tlsa(other, p);
    if (g && g->record != gen->record)
      gen->warnings.push_back(fmt::format("{} serves a different {}: its record is {}", other.name,
                                          p.depth == 0 ? "certificate" : "chain", to_presentation(g->record)));
  }
  std::string owner, tlsa_base;
  if (!owner_host.empty()) {
    auto o = tlsa_owner(owner_host, owner_port);
    if (!o) return usage_error("--host: " + o.error());
    owner = *o;
    tlsa_base = normalize_domain(owner_host).value_or(owner_host);
  } else if (a.ttl >= 0) {
    return usage_error("--ttl needs --host (without an owner name only the record data is printed)");
  }
  std::optional<std::uint32_t> ttl;
  if (a.ttl >= 0) ttl = static_cast<std::uint32_t>(a.ttl);
  for (const auto& w : gen->warnings) warn(w);
  if (format_name == "json")
    fmt::print("{}\n", generate_to_json({source.name, tlsa_base, owner_port, ttl, *gen}));
  else
    fmt::print("{}\n", format_record(gen->record, owner, ttl,
                                     format_name == "generic" ? RecordFormat::generic : RecordFormat::zone));
  std::fflush(stdout);
  return exit_status::valid;
}

// ---- verify --------------------------------------------------------------------

struct VerifyArgs {
  SourceFlags source;
  ResolverFlags resolver;
  std::string records_file, host;
  std::vector<std::string> records;
  FormatFlags format{"text"};
  bool port_given = false;
  int port = 25;
  double timeout = 20;
};

int run_verify(const VerifyArgs& a) {
  std::string format_error;
  auto format = chosen_format(a.format, {"text", "json"}, format_error);
  if (!format_error.empty()) return usage_error(format_error);
  if (auto bad = check_sources(a.source)) return usage_error(*bad);
  if (a.port < 1 || a.port > 65535) return usage_error("--port must be between 1 and 65535");
  if (!(a.timeout >= 1 && a.timeout <= 600)) return usage_error("--timeout must be between 1 and 600 seconds");

  std::optional<ServerSpec> server;
  if (!a.source.server.empty()) {
    auto spec = parse_server(a.source.server);
    if (!spec) return usage_error(spec.error());
    server = *spec;
  }
  std::string host = a.host;
  if (!host.empty()) {
    auto n = normalize_domain(host);
    if (!n) return usage_error("--host: " + n.error());
    host = *n;
  } else if (server && !server->literal) {
    host = server->host;
  }
  std::uint16_t port = static_cast<std::uint16_t>(a.port);
  if (!a.port_given && server) port = server->port;

  // Records: a file, arguments, or the DNS.
  std::vector<TlsaRecord> records;
  std::string records_from;
  std::optional<TlsaLookup> lookup;
  if (!a.records_file.empty()) {
    auto bytes = read_file_bytes(a.records_file);
    if (!bytes) return usage_error("--records " + bytes.error());
    auto parsed = parse_tlsa_file(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()));
    if (!parsed) return usage_error(fmt::format("--records {}: {}", a.records_file, parsed.error()));
    if (parsed->empty()) return usage_error(fmt::format("--records {}: no TLSA records in the file", a.records_file));
    records = std::move(*parsed);
    records_from = "--records " + a.records_file;
  } else if (!a.records.empty()) {
    for (const auto& text : a.records) {
      auto r = parse_tlsa_input(text);
      if (!r) return usage_error(fmt::format("--record '{}': {}", text, r.error()));
      records.push_back(std::move(*r));
    }
    records_from = "--record";
  } else {
    if (host.empty())
      return usage_error("give --records FILE or --record, or --host (or --server NAME) to look the records up in DNS");
    try {
      lookup = lookup_tlsa(host, port, resolver_of(a.resolver),
                           std::chrono::milliseconds(static_cast<long>(a.timeout * 1000)));
    } catch (const ResolverError& e) {
      return usage_error(e.what());
    }
    records = lookup->records;
    records_from = "DNS";
  }

  VerifyReport report;
  bool dns_failed =
      lookup && (lookup->status.kind == AnswerKind::failure || lookup->status.security == Security::indeterminate);
  // The reference identifiers and time of OpenSSL's verification, as in the
  // check: the TLSA base domain (the MX host; no next-hop domain is known here)
  // and now. The front end reads the clock; the verify code is pure.
  DaneContext context{host, {}, static_cast<std::int64_t>(std::time(nullptr))};
  if (server && !dns_failed) {
    auto usable = records_for_openssl(records);
    std::string error;
    std::vector<ProbeResult> results;
    try {
      results = probe(*server, host, usable, a.resolver, a.timeout, error);
    } catch (const ResolverError& e) {
      return usage_error(e.what());
    }
    if (!error.empty()) {
      fmt::print(stderr, "danekit: --server {}: {}\n", server->text(), error);
      return unreachable_status;
    }
    report = verify_against_server(records, results, context);
    report.checked_against = "--server " + server->text();
  } else if (!server) {
    auto source = load_file_source(a.source);
    if (!source) return usage_error(source.error());
    report = verify_against_source(records, *source, context);
  } else {
    report.checked_against = "--server " + server->text();
  }
  report.records_from = records_from;
  if (!host.empty()) {
    report.tlsa_base = host;
    report.owner = fmt::format("_{}._tcp.{}", port, host);
  }
  if (lookup) {
    apply_dns_status(report, lookup->status);
    for (const auto& e : lookup->errors) report.warnings.push_back("DNS answer has a malformed TLSA record: " + e);
  }
  for (const auto& w : report.warnings) warn(w);
  fmt::print("{}", format == "json" ? verify_to_json(report) + "\n" : render_verify_text(report));
  std::fflush(stdout);
  return exit_status_for(report);
}

}  // namespace

void add_tlsa_command(CLI::App& app, Action& action) {
  auto* tlsa = app.add_subcommand("tlsa", "Make TLSA records and check them against keys, certificates and servers");
  tlsa->require_subcommand(1);

  auto g = std::make_shared<GenerateArgs>();
  auto* gen = tlsa->add_subcommand("generate", "Print the TLSA record for a certificate, key, CSR or live server");
  add_source_flags(*gen, g->source);
  gen->add_option("--usage", g->usage, "0-3 or PKIX-TA, PKIX-EE, DANE-TA, DANE-EE");
  gen->add_option("--selector", g->selector, "0-1 or Cert, SPKI");
  gen->add_option("--mtype", g->mtype, "0-2 or Full, SHA2-256, SHA2-512");
  auto* depth = gen->add_option("--depth", g->depth, "Chain element: 0 the server's certificate, 1 its issuer, ...");
  gen->add_flag("--ta", g->ta, "Usage 2 (DANE-TA) for the nearest issuer (depth 1 unless --depth)");
  gen->add_option("--host", g->host, "MX host name for the owner _PORT._tcp.HOST. (default: --server's name)");
  auto* port = gen->add_option("--port", g->port, "Port in the owner name (default 25, or --server's port)");
  gen->add_option("--ttl", g->ttl, "TTL to print (needs an owner name; -1: none)");
  add_format_flags(*gen, g->format,
                   "zone (or text: the zone-file line), generic (RFC 3597) or json (schema danekit.tlsa-generate/1)");
  gen->add_option("--timeout", g->timeout, "Seconds for --server (1-600)");
  add_resolver_flags(*gen, g->resolver);
  auto* usage_opt = gen->get_option("--usage");
  gen->callback([g, depth, port, usage_opt, &action] {
    g->depth_given = depth->count() > 0;
    g->port_given = port->count() > 0;
    g->usage_given = usage_opt->count() > 0;
    action = [g] { return run_generate(*g); };
  });

  auto v = std::make_shared<VerifyArgs>();
  auto* ver = tlsa->add_subcommand("verify",
                                   "Check TLSA records from DNS, a file or arguments against a "
                                   "certificate, key or live server");
  add_source_flags(*ver, v->source);
  auto* file = ver->add_option("--records", v->records_file, "File of TLSA records (zone-file lines or U S M HEX)");
  auto* rec = ver->add_option("--record", v->records, "One record \"U S M HEX\" (repeatable)");
  file->excludes(rec);
  ver->add_option("--host", v->host, "MX host name: TLSA base domain, DNS lookup and DANE-TA name check");
  auto* vport = ver->add_option("--port", v->port, "Port of the TLSA base domain (default 25, or --server's port)");
  add_format_flags(*ver, v->format, "text or json (one object, schema danekit.tlsa-verify/1)");
  ver->add_option("--timeout", v->timeout, "Seconds for DNS and --server (1-600)");
  add_resolver_flags(*ver, v->resolver);
  ver->callback([v, vport, &action] {
    v->port_given = vport->count() > 0;
    action = [v] { return run_verify(*v); };
  });
}

}  // namespace danekit::cli
