#!/usr/bin/env bash
# chromium.sh — the headless Chromium the admin console's browser tests
# drive (ui/browser_test.go, through chromedp).
#
#   scripts/chromium.sh     install Debian's chromium-headless-shell (apt) if
#                           no Chromium is found; print the binary's path
#
# Only the path goes to stdout, so:
#
#   export RAMPART_TEST_CHROMIUM="$(scripts/chromium.sh)"
set -euo pipefail

log() { echo "chromium.sh: $*" >&2; }

find_chromium() {
	local p
	if [ -n "${RAMPART_TEST_CHROMIUM:-}" ] && [ -x "$RAMPART_TEST_CHROMIUM" ]; then
		echo "$RAMPART_TEST_CHROMIUM"
		return 0
	fi
	for p in /usr/bin/chromium-headless-shell /usr/lib/chromium-headless-shell/chromium-headless-shell \
		/usr/lib/chromium/headless_shell /usr/bin/chromium /usr/bin/chromium-browser; do
		if [ -x "$p" ]; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

if find_chromium; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	log "no Chromium found and this is not root: apt-get install -y chromium-headless-shell"
	exit 1
fi
log "installing chromium-headless-shell (apt)…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium-headless-shell >&2
find_chromium || { log "chromium-headless-shell installed but its binary was not found"; exit 1; }
