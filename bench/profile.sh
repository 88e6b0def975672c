#!/usr/bin/env bash
# Instruction profile of kiro-proxy serving one scenario: the simulator as upstream, kiro-proxy
# under `valgrind --tool=callgrind` (counters zeroed after a warm-up), N requests, then the
# instructions per request by function. Repeatable where timings are not (perf counters are not
# available on the shared benchmark machine).
#
#   bench/profile.sh s2_stream200 200      # a body in bench/scenarios/ (or s3_claude_code), N
#   bench/profile.sh s3_claude_code 100 --incl '^(dialects|kiro_proxy|kiro_wire|tiktoken)'
#
# Needs the release binaries (bench/run.sh builds them). The raw callgrind file is kept in
# bench/results/ for callgrind_annotate / kcachegrind.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/target/release"
SCEN=${1:-s2_stream200}
N=${2:-200}
shift $(( $# >= 2 ? 2 : $# ))
SIM_PORT="${SIM_PORT:-19190}"
PROXY_PORT="${PROXY_PORT:-19192}"
WORK=$(mktemp -d /tmp/kiro-profile.XXXXXX)
STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
OUTFILE="$ROOT/bench/results/callgrind-$SCEN-$STAMP.out"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
wait_http() {
  local i
  for i in $(seq 1 600); do
    curl -sf -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "timeout waiting for $1" >&2; return 1
}

if [ "$SCEN" = s3_claude_code ]; then
  "$ROOT/bench/scenarios/make_s3.sh" >"$WORK/body.json"
else
  cp "$ROOT/bench/scenarios/$SCEN.json" "$WORK/body.json"
fi

SIM="http://127.0.0.1:$SIM_PORT"
RUST_LOG=warn taskset -c 0 "$BIN/kiro-sim" --port "$SIM_PORT" --log-capacity 0 --base-credit 0 \
  >"$WORK/sim.log" 2>&1 &
PIDS+=("$!")
wait_http "$SIM/_sim/health"
KSK=$(curl -sf -XPOST "$SIM/_sim/accounts" -d '{"kind":"api_key","tier":"power"}' | jq -r .api_key)

PROXY="http://127.0.0.1:$PROXY_PORT"
ADMIN="bench-admin-token-0123456789"
KIRO_Q_URL=$SIM KIRO_CODEWHISPERER_URL=$SIM KIRO_SOCIAL_AUTH_URL=$SIM KIRO_OIDC_URL=$SIM \
  KIRO_API_KEYS=k1 KIRO_ADMIN_TOKEN=$ADMIN KIRO_LOG=warn \
  taskset -c 1 valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" \
  "$BIN/kiro-proxy" serve --host 127.0.0.1 --port "$PROXY_PORT" --data-dir "$WORK/data" \
  >"$WORK/proxy.log" 2>&1 &
PROXY_PID=$!; PIDS+=("$PROXY_PID")
wait_http "$PROXY/healthz"
curl -sf -XPOST "$PROXY/api/accounts" -H "authorization: Bearer $ADMIN" \
  -H 'content-type: application/json' -d "{\"authMethod\":\"apiKey\",\"apiKey\":\"$KSK\"}" >/dev/null
wait_http "$PROXY/readyz"

load() { # requests warmup
  taskset -c 0 "$BIN/loadgen" --url "$PROXY/v1/messages" --body "$WORK/body.json" \
    -H 'x-api-key: k1' -H 'anthropic-version: 2023-06-01' -c 1 -n "$1" --warmup "$2"
}
load 20 0 >/dev/null
callgrind_control -z "$PROXY_PID" >/dev/null
load "$N" 0 >&2
callgrind_control -d "$PROXY_PID" >/dev/null
cp "$(ls -t "$WORK"/cg.out.* | head -1)" "$OUTFILE"
echo "callgrind file: $OUTFILE" >&2
python3 "$ROOT/bench/cgsummary.py" "$OUTFILE" "$N" "$@"
