#!/bin/sh
# Regenerates the sigharness test PKI (corpus/pki/) with the openssl CLI.
#
# Shaped like Apple's code-signing PKI, with Apple's marker extensions so the verdict engine
# classifies certificates by kind (codesign-formats.md sec. 3 and 10):
#   root            Sigharness Test Root CA (self-signed; trusted only when the caller says so)
#   devid-ca        "Developer ID Certification Authority"-like, marker 1.2.840.113635.100.6.2.6
#   wwdr-ca         "Worldwide Developer Relations"-like, marker 1.2.840.113635.100.6.2.1
#   ts-ca           timestamp CA, marker 1.2.840.113635.100.6.2.9
#   devid-team1/2   Developer ID Application leaves (1.2.840.113635.100.6.1.13), teams SHTEAM0001/2
#   dev-team1/2     Apple Development leaves (1.2.840.113635.100.6.1.2 + .12), teams SHTEAM0001/2
#   profile-signer  provisioning-profile signing identity (under wwdr-ca)
#   tsa             RFC 3161 timestamp authority (critical timeStamping EKU, under ts-ca)
# RSA-2048 keys (PKCS#1 v1.5 signatures are deterministic), fixed serials, fixed validity
# 2020-01-01 .. 2040-01-01.  The marker extensions are non-critical (Apple marks some critical)
# so that stock OpenSSL (`openssl cms -verify`, `openssl verify`) accepts the chains.  Keys are
# freshly generated on each run, so rerunning changes every file: commit the result together
# with anything that pins fingerprints.
#
# Usage: make-pki.sh [OUTDIR]   (default: <source>/corpus/pki).  TEST KEYS ONLY.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../corpus/pki}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=20200101000000Z
end=20400101000000Z

cat >"$work/ca.cnf" <<CNF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = any
unique_subject = no
email_in_dn = no
copy_extensions = none
[ any ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = optional
userId = optional
[ root ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ ca_devid ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.2.840.113635.100.6.2.6 = DER:05:00
[ ca_wwdr ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.2.840.113635.100.6.2.1 = DER:05:00
[ ca_ts ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.2.840.113635.100.6.2.9 = DER:05:00
[ leaf_devid ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.2.840.113635.100.6.1.13 = DER:05:00
[ leaf_dev ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.2.840.113635.100.6.1.2 = DER:05:00
1.2.840.113635.100.6.1.12 = DER:05:00
[ leaf_profile ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ leaf_tsa ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
: >"$work/index.txt"

# cert NAME SERIAL SUBJECT EXTENSIONS ISSUER ("self" for the root)
cert() {
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$out/$1.key.pem" 2>/dev/null
  openssl req -new -key "$out/$1.key.pem" -subj "$3" -utf8 -out "$work/$1.csr"
  echo "$2" >"$work/serial"
  if [ "$5" = self ]; then
    set -- "$1" "$2" "$3" "$4" -selfsign -keyfile "$out/$1.key.pem"
  else
    set -- "$1" "$2" "$3" "$4" -cert "$out/$5.cert.pem" -keyfile "$out/$5.key.pem"
  fi
  name=$1 ext=$4
  shift 4
  openssl ca -batch -config "$work/ca.cnf" -notext -preserveDN -utf8 -md sha256 \
    -startdate $start -enddate $end -extensions "$ext" -extfile "$work/ca.cnf" \
    -in "$work/$name.csr" -out "$out/$name.cert.pem" "$@" 2>"$work/err" ||
    { cat "$work/err" >&2; exit 1; }
  : >"$work/index.txt"
}

T="/O=Sigharness Test/OU=Sigharness Test Certification Authority"
cert root 01 "/C=US$T/CN=Sigharness Test Root CA" root self
cert devid-ca 02 "/C=US$T/CN=Developer ID Certification Authority" ca_devid root
cert wwdr-ca 03 "/C=US$T/CN=Worldwide Developer Relations Certification Authority" ca_wwdr root
cert ts-ca 04 "/C=US$T/CN=Timestamp Certification Authority" ca_ts root
# Apple's leaf subject order: UID, CN, OU (team), O, C.
leaf() { # NAME SERIAL CN TEAM ORG EXT ISSUER
  cert "$1" "$2" "/UID=$4/CN=$3/OU=$4/O=$5/C=US" "$6" "$7"
}
leaf devid-team1 10 "Developer ID Application: Sigharness Test One (SHTEAM0001)" SHTEAM0001 \
  "Sigharness Test One" leaf_devid devid-ca
leaf devid-team2 11 "Developer ID Application: Sigharness Test Two (SHTEAM0002)" SHTEAM0002 \
  "Sigharness Test Two" leaf_devid devid-ca
leaf dev-team1 12 "Apple Development: Sigharness Dev One (SHTEAM0001)" SHTEAM0001 \
  "Sigharness Test One" leaf_dev wwdr-ca
leaf dev-team2 13 "Apple Development: Sigharness Dev Two (SHTEAM0002)" SHTEAM0002 \
  "Sigharness Test Two" leaf_dev wwdr-ca
cert profile-signer 20 "/C=US$T/CN=Sigharness Test Provisioning Profile Signing" leaf_profile wwdr-ca
cert tsa 21 "/C=US$T/CN=Sigharness Test Timestamp Authority" leaf_tsa ts-ca
openssl x509 -in "$out/root.cert.pem" -outform DER -out "$out/root.cert.der"
# Traditional-format-free, PKCS#8 PEM keys; normalise permissions for the repository.
chmod 644 "$out"/*.pem "$out"/*.der
ls "$out"
