#!/usr/bin/env bash
# Install the Debian 12 packages Tern needs: to build and run (default), or
# also to test (--test). Run as root. Safe to run again.
set -euo pipefail

build_pkgs=(build-essential pkg-config meson ninja-build libevent-dev libssl-dev publicsuffix
	libsqlite3-dev libcrypt-dev libsodium-dev libunbound-dev libidn2-dev libcurl4-openssl-dev zlib1g-dev dns-root-data openssl
	ca-certificates)
test_pkgs=(libcmocka-dev python3-pytest fetchmail getmail6 python3-pytest-timeout python3-dnspython
	python3-dkim python3-milter python3-spf python3-yaml python3-cryptography python3-aiosmtpd swaks
	clang libclang-rt-14-dev clang-format opendkim opendkim-tools
	dovecot-imapd dovecot-pop3d dovecot-sieve rspamd isync util-linux iproute2 python3-pytest-xdist
	libnet-ssleay-perl libio-socket-ssl-perl postfix libsasl2-modules curl ldnsutils nsd mutt
	haproxy sieve-connect)

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
	# Peers installed only as test oracles (dovecot, opendkim, postfix) must not
	# start as system services: a policy-rc.d refuses that while we install.
	policy=/usr/sbin/policy-rc.d
	made_policy=no
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=yes
	fi
	# Postfix is a test peer (a front MTA handing mail over by LMTP): its
	# package must not write a system config (/etc/postfix/main.cf).
	echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
	apt-get update -qq
	rc=0
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
	if [ "$made_policy" = yes ]; then rm -f "$policy"; fi
	[ $rc -eq 0 ] || exit $rc
fi

# The roles drop root to this account when the server is started as root.
if [ "$(id -u)" -eq 0 ] && ! getent passwd tern >/dev/null; then
	useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin tern
fi
