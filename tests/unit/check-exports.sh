#!/bin/sh
# SPDX-License-Identifier: MIT
# libzonecut.so exports exactly the functions its public headers mark ZC_PUBLIC:
# nothing internal leaks, nothing public is missing.
set -eu
so=$1
inc=$2
exported=$(mktemp)
declared=$(mktemp)
trap 'rm -f "$exported" "$declared"' EXIT
nm -D --defined-only "$so" | awk '$2 == "T" || $2 == "D" || $2 == "B" { print $3 }' |
	sed 's/@.*//' | grep -v '^ZONECUT_' | sort -u >"$exported"
# the name before the first '(' of every ZC_PUBLIC declaration (may span lines)
grep -hv '^#define' "$inc"/*.h | tr '\n' ' ' | grep -o 'ZC_PUBLIC[^;(]*(' |
	sed 's/($//; s/.*[ *]//' | sort -u >"$declared"
if ! diff -u "$declared" "$exported"; then
	echo "check-exports: exported symbols differ from ZC_PUBLIC declarations" >&2
	exit 1
fi
echo "$(wc -l <"$exported") public symbols, as declared"
