// Reading the operator's own keys and certificates (PEM or DER) into a
// LocalKey: a certificate or chain, a private key, a public key, or a CSR
// (whose self-signature must verify). Errors are one line naming the file.
#pragma once

#include <string>

#include <tl/expected.hpp>

#include "danekit/rollover.h"

namespace danekit {

enum class KeySource { cert, key, pubkey, csr };

tl::expected<LocalKey, std::string> load_local_key(const std::string& path, KeySource kind);

// Makes a new private key (ECDSA P-256, or RSA with `rsa_bits` >= 2048) and
// writes it as PEM to `path` with mode 0600; refuses to overwrite a file.
tl::expected<LocalKey, std::string> generate_key_file(const std::string& path, int rsa_bits = 0);

}  // namespace danekit
