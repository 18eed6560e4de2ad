#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages zonecut needs to build, test and run its demo,
# but only those missing. Usage: scripts/install-deps.sh [build|test]
set -eu

BUILD_PKGS="build-essential meson ninja-build pkg-config libldns-dev libunbound-dev
libevent-dev libssl-dev libsqlite3-dev libjansson-dev libcmocka-dev libgoogle-perftools-dev"
TEST_PKGS="nsd knot knot-dnsutils bind9 bind9-utils bind9-dnsutils unbound ldnsutils dnsperf
python3 python3-pytest python3-dnspython iproute2 procps pdns-server pdns-backend-sqlite3 sqlite3"

want="$BUILD_PKGS $TEST_PKGS"
missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "install-deps: missing packages and not root:$missing" >&2
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
# The package scripts of nsd, knot, bind9 and unbound would start system daemons on
# port 53; the testbed starts its own, so keep the distribution's services down.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
	$SUDO chmod +x /usr/sbin/policy-rc.d
	cleanup_policy=1
else
	cleanup_policy=0
fi
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
if [ "$cleanup_policy" = 1 ]; then
	$SUDO rm -f /usr/sbin/policy-rc.d
fi
