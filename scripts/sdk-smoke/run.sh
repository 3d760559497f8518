#!/usr/bin/env bash
# Runs the Vercel AI SDK (openai('...') uses the Responses API) and the
# OpenAI Agents SDK, unchanged, against rampart's built-in demo model:
# whole and streamed answers, and a blocked prompt injection.
# Needs node >= 20 and npm. Usage: bash scripts/sdk-smoke/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
(cd "$root" && go build -o "$work/rampart" ./cmd/rampart)
cp "$here"/package.json "$here"/*.mjs "$work/"
(cd "$work" && npm install --legacy-peer-deps --no-audit --no-fund >/dev/null)
port=${RAMPART_SMOKE_PORT:-18914}
"$work/rampart" serve --listen "127.0.0.1:$port" --data "$work/data" >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q 'rk_' "$work/serve.log" 2>/dev/null && break; sleep 0.2; done
export RAMPART_KEY=$(grep -o 'rk_[A-Za-z0-9]\{43\}' "$work/serve.log" | head -1)
export RAMPART_URL="http://127.0.0.1:$port"
(cd "$work" && node vercel.mjs && node agents.mjs)
