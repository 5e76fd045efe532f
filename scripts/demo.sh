#!/usr/bin/env bash
# Quick start: install what is needed, build, create a demo instance (first
# run only) and run it in the foreground on loopback ports 10000 + the
# standard ones. Ctrl-C stops it.
#
# As root the instance lives in /var/lib/tern-demo (the server drops root to
# the `tern` account, which must be able to reach it); otherwise in ./demo.
# DEMO_DIR overrides both.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
	dir=${DEMO_DIR:-/var/lib/tern-demo}
else
	dir=${DEMO_DIR:-$PWD/demo}
fi

scripts/install-deps.sh
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

if [ ! -f "$dir/tern.conf" ]; then
	build/tern init "$dir" --port-offset 10000 --domain example.test \
		--hostname mail.example.test --demo >"$dir.init.txt"
	mv "$dir.init.txt" "$dir/demo.txt"
	chmod 600 "$dir/demo.txt"
fi
cat "$dir/demo.txt"
echo "(this summary, with the demo password, is kept in $dir/demo.txt)"
exec build/tern -c "$dir/tern.conf" serve
