#!/usr/bin/env bash
# `/metrics` against the benchmark: runs S1 (not streamed) and S2 (streamed, 200 frames) at
# c=1 direct to the simulator, through the null proxy and through a release kiro-proxy,
# scrapes `/metrics` before and after each kiro-proxy run, and prints side by side what the
# benchmark measures (kiro-proxy p50 − direct p50: the latency it adds; − null p50: the same
# without the cost of a second loopback hop, which no proxy can see from inside) and what the
# proxy reports about itself (`kiro_proxy_overhead_seconds`: latency − upstream wait, mean and
# interpolated median of the run's bucket deltas), plus counters that must move (requests
# with a 200, output tokens) and the mean upstream wait.
#
#   bench/metrics-check.sh                     # build, 3 rounds
#   bench/metrics-check.sh --no-build --rounds 5 --n-s1 3000 --n-s2 1000
#
# Same CPU layout as run.sh: simulator and load generator on CPU 0, kiro-proxy on CPU 1.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/target/release"
SIM_PORT="${SIM_PORT:-19190}"
NULL_PORT="${NULL_PORT:-19191}"
PROXY_PORT="${PROXY_PORT:-19192}"
ROUNDS=3
BUILD=1
N_S1=2000
N_S2=500

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --n-s1) N_S1="$2"; shift 2 ;;
    --n-s2) N_S2="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

WORK=$(mktemp -d /tmp/kiro-metrics-check.XXXXXX)
PIDS=()
log() { echo "[metrics-check] $*" >&2; }
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
wait_http() {
  local url=$1 i
  for i in $(seq 1 200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" = 200 ] && return 0
    sleep 0.05
  done
  log "timeout waiting for $url"; return 1
}

if [ "$BUILD" = 1 ]; then
  log "building release binaries"
  (cd "$ROOT" && cargo build --release -p kiro-proxy -p kiro-sim -p kiro-bench) >&2
fi

SIM="http://127.0.0.1:$SIM_PORT"
RUST_LOG=warn taskset -c 0 "$BIN/kiro-sim" --port "$SIM_PORT" --seed 7 --log-capacity 64 \
  --base-credit 0 >"$WORK/sim.log" 2>&1 &
PIDS+=("$!")
wait_http "$SIM/_sim/health"
KSK=$(curl -sf -XPOST "$SIM/_sim/accounts" -d '{"kind":"api_key","tier":"power"}' | jq -r .api_key)

PROXY="http://127.0.0.1:$PROXY_PORT"
CLIENT_KEY="bench-client-key-0001"
ADMIN="bench-admin-token-0123456789"
KIRO_Q_URL=$SIM KIRO_CODEWHISPERER_URL=$SIM KIRO_SOCIAL_AUTH_URL=$SIM KIRO_OIDC_URL=$SIM \
  KIRO_API_KEYS=$CLIENT_KEY KIRO_ADMIN_TOKEN=$ADMIN KIRO_LOG=warn \
  taskset -c 1 "$BIN/kiro-proxy" serve --host 127.0.0.1 --port "$PROXY_PORT" \
  --data-dir "$WORK/data" >"$WORK/proxy.log" 2>&1 &
PIDS+=("$!")
wait_http "$PROXY/healthz"
curl -sf -XPOST "$PROXY/api/accounts" -H "authorization: Bearer $ADMIN" \
  -H 'content-type: application/json' \
  -d "{\"authMethod\":\"apiKey\",\"apiKey\":\"$KSK\",\"label\":\"bench\"}" >/dev/null
wait_http "$PROXY/readyz"
NULL="http://127.0.0.1:$NULL_PORT"
taskset -c 1 "$BIN/null-proxy" --port "$NULL_PORT" --upstream "127.0.0.1:$SIM_PORT" \
  >"$WORK/null.log" 2>&1 &
PIDS+=("$!")
wait_http "$NULL/_sim/health"

# The Kiro body and headers the proxy sends for each scenario: what "direct" sends.
SC="$ROOT/bench/scenarios"
for s in s1_small s2_stream200; do
  cp "$SC/$s.json" "$WORK/"
  curl -s -o /dev/null --max-time 2 "$PROXY/v1/messages" -H "x-api-key: $CLIENT_KEY" \
    -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' \
    --data-binary "@$WORK/$s.json" || true
  id=$(curl -sf "$SIM/_sim/requests?path=/generateAssistantResponse" | jq '.[-1].id')
  curl -sf "$SIM/_sim/requests/$id" >"$WORK/$s.rec.json"
  jq -j .body "$WORK/$s.rec.json" >"$WORK/$s.kiro.json"
  jq -r '.headers[] | select(.[0] | test("^(host|content-length|content-type|connection)$") | not)
         | "\(.[0]): \(.[1])"' "$WORK/$s.rec.json" >"$WORK/kiro.headers"
done
curl -sf -XPATCH "$SIM/_sim/settings" -d '{"record_requests":false,"request_log_capacity":0}' >/dev/null

load() { # target body n
  local url body=$2 headers
  if [ "$1" != proxy ]; then
    url="$SIM/generateAssistantResponse"; body="$WORK/$body.kiro.json"
    [ "$1" = null ] && url="$NULL/generateAssistantResponse"
    headers=(--headers-file "$WORK/kiro.headers")
  else
    url="$PROXY/v1/messages"; body="$WORK/$body.json"
    headers=(-H "x-api-key: $CLIENT_KEY" -H 'anthropic-version: 2023-06-01')
  fi
  taskset -c 0 "$BIN/loadgen" --url "$url" --body "$body" "${headers[@]}" -c 1 -n "$3" \
    --warmup 30 --clk-tck "$(getconf CLK_TCK)"
}

printf '| scenario | round | 200s counted | bench: p50 − direct | p50 − null | /metrics overhead mean | median | direct p50 | upstream wait mean | output tokens |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for r in $(seq 1 "$ROUNDS"); do
  for sc in "S1 s1_small $N_S1" "S2 s2_stream200 $N_S2"; do
    set -- $sc
    load direct "$2" "$3" >"$WORK/direct.json"
    load null "$2" "$3" >"$WORK/null.json"
    curl -sf "$PROXY/metrics" >"$WORK/before.prom"
    load proxy "$2" "$3" >"$WORK/proxy.json"
    sleep 0.2 # the last record reaches the metrics after the client has its last byte
    curl -sf "$PROXY/metrics" >"$WORK/after.prom"
    python3 - "$1" "$r" "$WORK" <<'EOF'
import json, re, sys
scen, rnd, work = sys.argv[1], sys.argv[2], sys.argv[3]

def parse(path):
    out = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r'^([a-zA-Z_:]+)(\{[^}]*\})? (\S+)$', line.strip())
        if m:
            out[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return out

a, b = parse(f"{work}/before.prom"), parse(f"{work}/after.prom")
def delta(name, label_filter=""):
    return sum(v - a.get(k, 0.0) for k, v in b.items() if k[0] == name and label_filter in k[1])

requests = delta("kiro_requests_total", 'status="200"')
count = delta("kiro_proxy_overhead_seconds_count", 'dialect="anthropic"')
mean_ms = delta("kiro_proxy_overhead_seconds_sum", 'dialect="anthropic"') / max(count, 1) * 1000
wait_ms = delta("kiro_upstream_wait_seconds_sum", 'dialect="anthropic"') / max(count, 1) * 1000
tokens = delta("kiro_tokens_total", 'kind="output"')
# Median from the run's bucket deltas, linear within the bucket.
buckets = sorted(
    (float(re.search(r'le="([^"]+)"', k[1]).group(1).replace("+Inf", "inf")), v - a.get(k, 0.0))
    for k, v in b.items()
    if k[0] == "kiro_proxy_overhead_seconds_bucket" and 'dialect="anthropic"' in k[1])
median_ms, lo, below = float("nan"), 0.0, 0.0
for le, cum in buckets:
    if cum >= count / 2:
        frac = (count / 2 - below) / max(cum - below, 1e-9)
        median_ms = (lo if le == float("inf") else lo + (le - lo) * frac) * 1000
        break
    lo, below = le, cum
d, n, p = (json.load(open(f"{work}/{t}.json")) for t in ("direct", "null", "proxy"))
added_ms = (p["p50_us"] - d["p50_us"]) / 1000
over_null_ms = (p["p50_us"] - n["p50_us"]) / 1000
print(f"| {scen} | {rnd} | {requests:.0f} | {added_ms:.3f} ms | {over_null_ms:.3f} ms | {mean_ms:.3f} ms | {median_ms:.3f} ms | {d['p50_us'] / 1000:.3f} ms "
      f"| {wait_ms:.3f} ms | {tokens:.0f} |")
EOF
  done
done
