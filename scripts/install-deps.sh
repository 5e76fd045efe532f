#!/usr/bin/env bash
# Install the Debian 12 packages Tern needs: to build and run (default), or
# also to test (--test). Run as root. Safe to run again.
set -euo pipefail

build_pkgs=(build-essential pkg-config meson ninja-build libevent-dev libssl-dev
	libsqlite3-dev libcrypt-dev libsodium-dev libunbound-dev dns-root-data openssl
	ca-certificates)
test_pkgs=(libcmocka-dev python3-pytest python3-pytest-timeout python3-dnspython
	python3-dkim python3-spf python3-yaml python3-cryptography python3-aiosmtpd swaks
	clang libclang-rt-14-dev clang-format)

pkgs=("${build_pkgs[@]}")
if [ "${1:-}" = "--test" ]; then
	pkgs+=("${test_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing packages: ${missing[*]} (run as root)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The roles drop root to this account when the server is started as root.
if [ "$(id -u)" -eq 0 ] && ! getent passwd tern >/dev/null; then
	useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin tern
fi
