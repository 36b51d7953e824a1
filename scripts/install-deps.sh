#!/usr/bin/env bash
# Installs every Debian package the build, the tests and fuzzing need.  Idempotent: packages
# already present are left alone, and apt is not touched at all when nothing is missing.
set -euo pipefail

packages=(
  cmake make gcc pkg-config
  clang-14 libclang-rt-14-dev lld-14 llvm-14
  afl++
  libssl-dev openssl
  libplist-dev libplist-utils
  libcmocka-dev
  golang-go
  gcovr valgrind zip unzip
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
