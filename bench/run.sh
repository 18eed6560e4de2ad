#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench/run.sh [--quick] [bench/run.py options]: builds zonecut for release (in
# build-release, once) and runs the registry-scale benchmark. --quick is a smoke
# test: W1 with 5,000 and W2 with 20,000 delegations, no profile.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
if [ ! -f "$repo/build-release/build.ninja" ]; then
	meson setup "$repo/build-release" "$repo" -Dbuildtype=release -Db_sanitize=none
fi
if ! ninja -C "$repo/build-release" zonecut >&2; then
	[ -x "$repo/build-release/zonecut" ] || exit 1
	echo "run.sh: the build failed; benchmarking the zonecut built before" >&2
fi
if [ "${1:-}" = "--quick" ]; then
	shift
	set -- --n 5000 --n2 20000 --no-profile --dnsperf-seconds 3 --repeat 1 --workdir /var/tmp/zcbench-quick "$@"
fi
exec /usr/bin/python3 "$here/run.py" "$@"
