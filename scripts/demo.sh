#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo: starts the demo testbed (a signed hierarchy on loopback served by real
# NSD processes), runs the parental agent `zonecut scan` over the delegations of its
# example. TLD, shows a few validating lookups, and stops every server it started.
set -eu
BUILD=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
ZC="$top/$BUILD/zonecut"
PY=/usr/bin/python3
dir=$(mktemp -d /tmp/zonecut-demo.XXXXXX)

if [ "$(id -u)" != 0 ]; then
	echo "demo: the testbed binds port 53 on loopback addresses; run as root" >&2
	exit 1
fi
cleanup() {
	$PY "$top/tests/testbed/testbed.py" down --dir "$dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

state() {
	$PY -c 'import json,sys; st=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$dir/testbed.json" "$1"
}

echo "== starting the demo testbed in $dir"
$PY "$top/tests/testbed/testbed.py" up demo --dir "$dir"
TA=$(state 'st["trust_anchor"]')
HINTS=$(state 'st["root_hints"]')
PARENT=$(state 'st["zones"]["example."]["variants"]["v0"]["unsigned"]')
NS1=$(state 'st["hosts"]["ns1.provider.test."]["addresses"][0]')

echo
echo "== zonecut scan --zone $PARENT   (the registry of example.: every delegation)"
"$ZC" scan --db "$dir/zonecut.db" --zone "$PARENT" --trust-anchor "$TA" --root-hints "$HINTS" || true

echo
echo "== the same as JSON Lines, one delegation (rollover.example.)"
"$ZC" scan --db "$dir/zonecut.db" --zone "$PARENT" --child rollover.example. --json \
	--trust-anchor "$TA" --root-hints "$HINTS" | head -c 600
echo " ..."

echo
echo "== the nsupdate script the registry would run (--apply nsupdate)"
"$ZC" scan --db "$dir/zonecut.db" --zone "$PARENT" --apply nsupdate --trust-anchor "$TA" --root-hints "$HINTS" || true

for name in www.secure.example. www.insecure.example. www.bogus.example.; do
	echo
	echo "== zonecut query $name A   (validating through the testbed root)"
	"$ZC" query "$name" A --trust-anchor "$TA" --root-hints "$HINTS" | tail -n 2 || true
done
echo
echo "== zonecut query @$NS1 big.secure.example. TXT --dnssec   (UDP truncated, retried over TCP)"
"$ZC" query "@$NS1" big.secure.example. TXT --dnssec | tail -n 1
echo
echo "== demo done; stopping the testbed"
