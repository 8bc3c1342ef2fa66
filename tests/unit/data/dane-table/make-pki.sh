#!/bin/sh
# Makes the fixed-date test PKI of tests/unit/dane_table_test.cc, once. The
# test reads the checked-in files and never runs this. Keys already in keys/
# are kept, but the certificates are signed anew (new serials' bytes, new
# ECDSA signatures), so running it again changes the certificate digests the
# test pins literally: update those three constants in the test with it.
#
# `openssl ca -startdate/-enddate` sets any notBefore/notAfter, past or future,
# without faketime. Keys are made here too and kept (test-only keys).
#
#   sh tests/unit/data/dane-table/make-pki.sh    # from anywhere; writes beside itself
set -eu
cd "$(dirname "$0")"
command -v openssl >/dev/null || { echo "make-pki.sh: openssl not found" >&2; exit 69; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

VALID_FROM=20250101000000Z   # the valid certificates: 2025-01-01 to 2035-01-01
VALID_TO=20350101000000Z

cat >"$work/ca.cnf" <<'EOF'
[ ca ]
default_ca = table
[ table ]
dir = WORK
database = $dir/index.txt
new_certs_dir = $dir/new
serial = $dir/serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
email_in_dn = no
[ any ]
commonName = supplied
organizationName = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ leaf_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = $ENV::SAN
EOF
sed -i "s|WORK|$work|" "$work/ca.cnf"
mkdir "$work/new"
: >"$work/index.txt"
echo 1000 >"$work/serial"

mkdir -p keys
key() {  # key NAME ec|rsa: made once, then kept
  [ -f "keys/$1.key" ] && return 0
  case $2 in
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "keys/$1.key" ;;
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "keys/$1.key" 2>/dev/null ;;
  esac
}

# cert NAME SUBJECT-CN ISSUER|self ca|leaf FROM TO [SAN]
cert() {
  name=$1 cn=$2 issuer=$3 kind=$4 from=$5 to=$6
  SAN=${7:-DNS:unused.invalid}
  export SAN
  openssl req -new -config "$work/ca.cnf" -key "keys/$name.key" -subj "/O=danekit dane-table/CN=$cn" \
    -out "$work/$name.csr"
  if [ "$issuer" = self ]; then
    set -- -selfsign -keyfile "keys/$name.key"
  else
    set -- -cert "$issuer.pem" -keyfile "keys/$issuer.key"
  fi
  openssl ca -batch -notext -config "$work/ca.cnf" "$@" -extensions "${kind}_ext" \
    -startdate "$from" -enddate "$to" -in "$work/$name.csr" -out "$name.pem" 2>/dev/null
}

key root ec; key int ec; key other-root ec
key leaf-ec ec; key leaf-rsa rsa; key leaf-other ec
key leaf-expired ec; key leaf-future ec; key leaf-wrong-name ec; key leaf-self ec
key leaf-next-hop ec; key leaf-wildcard ec; key leaf-deep-wildcard ec

cert root "danekit table root CA" self ca $VALID_FROM $VALID_TO
cert int "danekit table intermediate CA" root ca $VALID_FROM $VALID_TO
cert other-root "danekit table unrelated CA" self ca $VALID_FROM $VALID_TO

cert leaf-ec mx.example.com int leaf $VALID_FROM $VALID_TO DNS:mx.example.com
cert leaf-rsa mx.example.com int leaf $VALID_FROM $VALID_TO DNS:mx.example.com
cert leaf-other mx.example.com other-root leaf $VALID_FROM $VALID_TO DNS:mx.example.com
cert leaf-expired mx.example.com int leaf 20200101000000Z 20201231000000Z DNS:mx.example.com
cert leaf-future mx.example.com int leaf 20400101000000Z 20450101000000Z DNS:mx.example.com
cert leaf-wrong-name mx.other.example int leaf $VALID_FROM $VALID_TO DNS:mx.other.example
cert leaf-self mx.example.com self leaf $VALID_FROM $VALID_TO DNS:mx.example.com
cert leaf-next-hop example.com int leaf $VALID_FROM $VALID_TO DNS:example.com
cert leaf-wildcard "*.example.com" int leaf $VALID_FROM $VALID_TO "DNS:*.example.com"
cert leaf-deep-wildcard "*.mail.example.com" int leaf $VALID_FROM $VALID_TO "DNS:*.mail.example.com"

# A chain longer than authenticate()'s verify depth (10): long-root, eleven
# intermediates long-1 .. long-11 (long-1 under the root), and long-leaf.
key long-root ec
cert long-root "danekit table long-chain root" self ca $VALID_FROM $VALID_TO
prev=long-root
for i in 1 2 3 4 5 6 7 8 9 10 11; do
  key "long-$i" ec
  cert "long-$i" "danekit table long-chain CA $i" $prev ca $VALID_FROM $VALID_TO
  prev=long-$i
done
key long-leaf ec
cert long-leaf mx.example.com long-11 leaf $VALID_FROM $VALID_TO DNS:mx.example.com

echo "make-pki.sh: wrote $(ls ./*.pem | wc -l) certificates in $(pwd)"
