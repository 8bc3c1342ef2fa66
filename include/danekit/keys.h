// Reading the material TLSA records are made from: certificates (leaf or whole
// chain), private keys, SubjectPublicKeyInfo public keys and PKCS#10 CSRs, each
// as PEM or DER. No OpenSSL types cross this header.
//
// The parse_* functions take the file's bytes and fail with a one-line reason
// ("the key is encrypted", "the CSR's self-signature does not verify"); the
// load_* functions read a file and prefix that reason with the path, so a
// caller can print "danekit: --key PATH: the key is encrypted" as is.
//
// Invariants: a successful result is never empty (a chain has at least one
// certificate, a key at least one SPKI byte); an encrypted private key is always
// an error and never leads to a password prompt.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "danekit/cert.h"

namespace danekit {

using Bytes = std::vector<std::uint8_t>;

// PEM with one or more CERTIFICATE blocks (a chain, leaf first; other blocks
// such as a private key in the same file are skipped), or DER (one certificate
// or several concatenated).
tl::expected<std::vector<CertInfo>, std::string> parse_certificates(const Bytes& input);

// An unencrypted private key (PKCS#8 "PRIVATE KEY", traditional "RSA/EC PRIVATE
// KEY", or their DER). Returns the DER SubjectPublicKeyInfo of its public half.
tl::expected<Bytes, std::string> parse_private_key(const Bytes& input);

// A "PUBLIC KEY" PEM block or a DER SubjectPublicKeyInfo (also PKCS#1 "RSA
// PUBLIC KEY"). Returns the DER SubjectPublicKeyInfo.
tl::expected<Bytes, std::string> parse_public_key(const Bytes& input);

// A PKCS#10 request ("CERTIFICATE REQUEST" PEM or DER) whose self-signature
// verifies. Returns the DER SubjectPublicKeyInfo it asks to certify.
tl::expected<Bytes, std::string> parse_csr(const Bytes& input);

// Reads a whole file, at most max_input_file_bytes (key, certificate, CSR,
// records, trust anchor and root hints files are small; /dev/zero is not).
inline constexpr std::size_t max_input_file_bytes = 1024 * 1024;

// The same, reading `path`; errors read "PATH: reason".
tl::expected<Bytes, std::string> read_file_bytes(const std::string& path);
tl::expected<std::vector<CertInfo>, std::string> load_certificates(const std::string& path);
tl::expected<Bytes, std::string> load_private_key(const std::string& path);
tl::expected<Bytes, std::string> load_public_key(const std::string& path);
tl::expected<Bytes, std::string> load_csr(const std::string& path);

// True when two DER SubjectPublicKeyInfo values hold the same public key (also
// when their encodings differ, e.g. a compressed and an uncompressed EC point).
bool same_public_key(const Bytes& spki_a, const Bytes& spki_b);

// What records are made from or checked against. `spki` is always set (the
// leaf's key); `chain` is empty when only a key, public key or CSR is known.
struct KeySource {
  std::string name;  // how to name it in messages: "--cert chain.pem"
  std::vector<CertInfo> chain;
  std::vector<std::uint8_t> spki;
  bool has_certificate() const { return !chain.empty(); }
};

enum class KeyKind { cert, key, pubkey, csr };

// Reads one file of the given kind into a KeySource named after the file.
tl::expected<KeySource, std::string> load_key_source(const std::string& path, KeyKind kind);

// Makes a new private key (ECDSA P-256, or RSA with 2048-8192 `rsa_bits`) and
// writes it as PEM to `path` with mode 0600; never overwrites a file.
tl::expected<KeySource, std::string> generate_key_file(const std::string& path, int rsa_bits = 0);

// "EC prime256v1", "RSA 2048", ... for a DER SubjectPublicKeyInfo; "unknown"
// when it does not parse.
std::string describe_public_key(const Bytes& spki);

}  // namespace danekit
