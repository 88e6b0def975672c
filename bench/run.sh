#!/usr/bin/env bash
# Benchmark of kiro-proxy against the simulator, direct and through the null proxy, scenarios
# S1–S5 of ../shared/PERFORMANCE.md. Prints a markdown table of medians and keeps the raw JSON
# lines in bench/results/<date>.jsonl. See BENCHMARKS.md for the method and a cited run.
#
#   bench/run.sh                 # full run: 5 rounds, S1–S5
#   bench/run.sh --quick         # fewer requests, 3 rounds (a smoke test of the whole setup)
#   bench/run.sh --rounds 7 --no-build --skip-s5
#
# CPU layout (2 cores): kiro-proxy and the null proxy on CPU 1; simulator and load generator
# (and anything else) on CPU 0. Each round runs every scenario direct → null → kiro-proxy, so
# the three targets see the same background load; the table reports medians over rounds.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/target/release"
CAPTURES="${CAPTURES:-$ROOT/../shared/captures/claude-code}"
S3_CAPTURE="${S3_CAPTURE:-02_messages_say_hi_default_opus.json}"
SIM_PORT="${SIM_PORT:-19180}"
NULL_PORT="${NULL_PORT:-19181}"
PROXY_PORT="${PROXY_PORT:-19182}"
ROUNDS=5
QUICK=0
BUILD=1
SKIP_S5=0
S5_STREAMS="1000 5000"

while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --quick) QUICK=1; ROUNDS=3; shift ;;
    --no-build) BUILD=0; shift ;;
    --skip-s5) SKIP_S5=1; shift ;;
    --s5-streams) S5_STREAMS="$2"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

# Requests per measured run: (S1 c1, S1 c16, S2 c1, S2 c16, S3 c1, S4 c64).
if [ "$QUICK" = 1 ]; then
  N_S1C1=1000; N_S1C16=8000; N_S2C1=500; N_S2C16=2000; N_S3C1=500; N_S4=128
else
  N_S1C1=3000; N_S1C16=30000; N_S2C1=1500; N_S2C16=8000; N_S3C1=1500; N_S4=320
fi

STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
mkdir -p "$ROOT/bench/results"
OUT="$ROOT/bench/results/$STAMP.jsonl"
WORK=$(mktemp -d /tmp/kiro-bench.XXXXXX)
PIDS=()

log() { echo "[bench] $*" >&2; }
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_http() { # url, [expected status]
  local url=$1 want=${2:-200} i
  for i in $(seq 1 200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" || true)" = "$want" ] && return 0
    sleep 0.05
  done
  log "timeout waiting for $url"; return 1
}
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

if [ "$BUILD" = 1 ]; then
  log "building release binaries"
  (cd "$ROOT" && cargo build --release -p kiro-proxy -p kiro-sim -p kiro-bench) >&2
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# --- processes -----------------------------------------------------------------------------
SIM="http://127.0.0.1:$SIM_PORT"
# No metering charge, so that hundreds of thousands of requests never exhaust the quota.
RUST_LOG=warn taskset -c 0 "$BIN/kiro-sim" --port "$SIM_PORT" --seed 7 --log-capacity 64 --base-credit 0 \
  >"$WORK/sim.log" 2>&1 &
SIM_PID=$!; PIDS+=("$SIM_PID")
wait_http "$SIM/_sim/health"
KSK=$(curl -sf -XPOST "$SIM/_sim/accounts" -d '{"kind":"api_key","tier":"power"}' | jq -r .api_key)

PROXY="http://127.0.0.1:$PROXY_PORT"
CLIENT_KEY="bench-client-key-0001"
ADMIN="bench-admin-token-0123456789"
# One simulated account serves every request: lift the pool's per-account concurrency cap
# (default 8) so that c=16/c=64 and S5's thousands of streams measure the hop, not the queue.
start_proxy() {
  KIRO_Q_URL=$SIM KIRO_CODEWHISPERER_URL=$SIM KIRO_SOCIAL_AUTH_URL=$SIM KIRO_OIDC_URL=$SIM \
    KIRO_API_KEYS=$CLIENT_KEY KIRO_ADMIN_TOKEN=$ADMIN KIRO_LOG=warn \
    KIRO_POOL_MAX_CONCURRENCY=100000 \
    taskset -c 1 "$BIN/kiro-proxy" serve --host 127.0.0.1 --port "$PROXY_PORT" \
    --data-dir "$WORK/data" >>"$WORK/proxy.log" 2>&1 &
  PROXY_PID=$!; PIDS+=("$PROXY_PID")
  wait_http "$PROXY/healthz"
}
NULL="http://127.0.0.1:$NULL_PORT"
start_null() {
  taskset -c 1 "$BIN/null-proxy" --port "$NULL_PORT" --upstream "127.0.0.1:$SIM_PORT" \
    >>"$WORK/null.log" 2>&1 &
  NULL_PID=$!; PIDS+=("$NULL_PID")
  wait_http "$NULL/_sim/health"
}
stop() { # pid: ends a process this script started
  local keep=() p
  kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

start_proxy
curl -sf -XPOST "$PROXY/api/accounts" -H "authorization: Bearer $ADMIN" \
  -H 'content-type: application/json' \
  -d "{\"authMethod\":\"apiKey\",\"apiKey\":\"$KSK\",\"label\":\"bench\"}" >/dev/null
wait_http "$PROXY/readyz"
start_null

# --- request bodies --------------------------------------------------------------------------
SC="$ROOT/bench/scenarios"
cp "$SC"/s1_small.json "$SC"/s2_stream200.json "$SC"/s4_paced.json "$SC"/s5_idle.json "$WORK/"
# S3: a real Claude Code turn made comparable with S1 (see make_s3.sh).
"$SC/make_s3.sh" "$CAPTURES/$S3_CAPTURE" >"$WORK/s3_claude_code.json"

# The Kiro bodies the proxy sends, captured from the simulator's log, are what "direct" and the
# null proxy send: the same upstream work, without the proxy.
for s in s1_small s2_stream200 s3_claude_code s4_paced s5_idle; do
  curl -s -o /dev/null --max-time 2 "$PROXY/v1/messages" -H "x-api-key: $CLIENT_KEY" \
    -H 'content-type: application/json' -H 'anthropic-version: 2023-06-01' \
    --data-binary "@$WORK/$s.json" || true
  id=$(curl -sf "$SIM/_sim/requests?path=/generateAssistantResponse" | jq '.[-1].id')
  curl -sf "$SIM/_sim/requests/$id" >"$WORK/$s.rec.json"
  status=$(jq -r .status "$WORK/$s.rec.json")
  [ "$status" = 200 ] || { log "$s: simulator answered $status ($(jq -r .outcome "$WORK/$s.rec.json"))"; exit 1; }
  jq -j .body "$WORK/$s.rec.json" >"$WORK/$s.kiro.json"
  jq -r '.headers[] | select(.[0] | test("^(host|content-length|content-type|connection)$") | not)
         | "\(.[0]): \(.[1])"' "$WORK/$s.rec.json" >"$WORK/kiro.headers"
  log "$s: client $(wc -c <"$WORK/$s.json") B → Kiro $(wc -c <"$WORK/$s.kiro.json") B"
done
curl -sf -XPATCH "$SIM/_sim/settings" -d '{"record_requests":false,"request_log_capacity":0}' >/dev/null
curl -sf -XDELETE "$SIM/_sim/requests" >/dev/null

# --- runs ------------------------------------------------------------------------------------
LOADGEN="$BIN/loadgen"
CLK_TCK=$(getconf CLK_TCK)
{
  jq -nc --arg stamp "$STAMP" --arg rev "$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" \
    --arg nproc "$(nproc)" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
    --arg rounds "$ROUNDS" --arg quick "$QUICK" \
    --arg built "$(date -u -r "$BIN/kiro-proxy" +%Y-%m-%dT%H:%M:%SZ)" \
    --arg dirty "$(cd "$ROOT" && git status --porcelain 2>/dev/null | wc -l)" \
    '{meta: {stamp: $stamp, rev: $rev, uncommitted_files: ($dirty|tonumber),
             proxy_binary_built: $built, cpu: $cpu, nproc: ($nproc|tonumber), load_start: $load,
             rounds: ($rounds|tonumber), quick: ($quick == "1")}}'
} >"$OUT"

# run <scenario> <target> <round> <body> <concurrency> <requests> [extra loadgen args…]
run() {
  local scen=$1 tgt=$2 round=$3 body=$4 c=$5 n=$6; shift 6
  local url headers=() cpu=(--cpu-pid "sim=$SIM_PID")
  case "$tgt" in
    direct) url="$SIM/generateAssistantResponse"; body="$WORK/$body.kiro.json"
            headers=(--headers-file "$WORK/kiro.headers") ;;
    null)   url="$NULL/generateAssistantResponse"; body="$WORK/$body.kiro.json"
            headers=(--headers-file "$WORK/kiro.headers"); cpu+=(--cpu-pid "hop=$NULL_PID") ;;
    proxy)  url="$PROXY/v1/messages"; body="$WORK/$body.json"
            headers=(-H "x-api-key: $CLIENT_KEY" -H 'anthropic-version: 2023-06-01')
            cpu+=(--cpu-pid "hop=$PROXY_PID") ;;
  esac
  local warm=$(( c >= 64 ? 1 : 30 ))
  taskset -c 0 "$LOADGEN" --url "$url" --body "$body" "${headers[@]}" -c "$c" -n "$n" \
    --warmup "$warm" --clk-tck "$CLK_TCK" "${cpu[@]}" --label "$scen/$tgt" "$@" \
    | jq -c --arg s "$scen" --arg t "$tgt" --argjson r "$round" \
        --arg load "$(cut -d' ' -f1 /proc/loadavg)" \
        '. + {scenario: $s, target: $t, round: $r, load1: ($load|tonumber)}' \
    | tee -a "$OUT" >/dev/null
}

# Events-in = events-out check (S2): upstream frames with `assistantResponseEvent`, SSE
# `content_block_delta` events after the proxy.
log "S2 check: events out vs upstream content frames"
run S2check direct 0 s2_stream200 1 200 --count assistantResponseEvent
run S2check null 0 s2_stream200 1 200 --count assistantResponseEvent
run S2check proxy 0 s2_stream200 1 200 --count 'event: content_block_delta'

RSS_BASE=$(rss_kb "$PROXY_PID")
for r in $(seq 1 "$ROUNDS"); do
  log "round $r/$ROUNDS (load $(cut -d' ' -f1-3 /proc/loadavg))"
  for tgt in direct null proxy; do run S1c1 "$tgt" "$r" s1_small 1 "$N_S1C1"; done
  for tgt in direct null proxy; do run S1c16 "$tgt" "$r" s1_small 16 "$N_S1C16"; done
  for tgt in direct null proxy; do run S2c1 "$tgt" "$r" s2_stream200 1 "$N_S2C1"; done
  for tgt in direct null proxy; do run S2c16 "$tgt" "$r" s2_stream200 16 "$N_S2C16"; done
  for tgt in direct null proxy; do run S3c1 "$tgt" "$r" s3_claude_code 1 "$N_S3C1"; done
  for tgt in direct null proxy; do
    if [ "$tgt" = proxy ]; then pat='event: content_block_delta'; else pat=assistantResponseEvent; fi
    run S4c64 "$tgt" "$r" s4_paced 64 "$N_S4" --count "$pat" --stagger-ms 1200
  done
done
RSS_AFTER_RUNS=$(rss_kb "$PROXY_PID")

# --- S5: memory per open idle stream ----------------------------------------------------------
# Each measurement uses a fresh process, warmed up with a few hundred S1/S2 requests (so lazy
# one-time state is in the baseline), then holds N idle streams: (RSS during - RSS before) / N.
# The same N is then held a second time: if RSS after the second pass is no higher than after
# the first, the memory kept after the first pass is allocator retention, not a leak.
hold_pass() { # pid url body label n headers…
  local pid=$1 url=$2 body=$3 label=$4 n=$5; shift 5
  taskset -c 0 "$BIN/hold" --url "$url" --body "$body" "$@" --streams "$n" \
    --hold-secs 6 --label "$label" >"$WORK/hold.out" 2>"$WORK/hold.err" &
  local hold_pid=$!
  until grep -q '"event":"open"' "$WORK/hold.out" 2>/dev/null; do
    kill -0 "$hold_pid" 2>/dev/null || break
    sleep 0.1
  done
  sleep 2
  HOLD_DURING=$(rss_kb "$pid")
  HOLD_OPEN=$(jq -c 'select(.event=="open")' "$WORK/hold.out")
  wait "$hold_pid" || log "hold: $(cat "$WORK/hold.err")"
  sleep 3
  HOLD_AFTER=$(rss_kb "$pid")
}
if [ "$SKIP_S5" = 0 ]; then
  for n in $S5_STREAMS; do
    for tgt in null proxy; do
      if [ "$tgt" = proxy ]; then
        stop "$PROXY_PID"; start_proxy; wait_http "$PROXY/readyz"; pid=$PROXY_PID
        url="$PROXY/v1/messages"; body="$WORK/s5_idle.json"
        headers=(-H "x-api-key: $CLIENT_KEY" -H 'anthropic-version: 2023-06-01')
        warm_url="$PROXY/v1/messages"; warm_s1="$WORK/s1_small.json"; warm_s2="$WORK/s2_stream200.json"
      else
        stop "$NULL_PID"; start_null; pid=$NULL_PID
        url="$NULL/generateAssistantResponse"; body="$WORK/s5_idle.kiro.json"
        headers=(--headers-file "$WORK/kiro.headers")
        warm_url="$NULL/generateAssistantResponse"
        warm_s1="$WORK/s1_small.kiro.json"; warm_s2="$WORK/s2_stream200.kiro.json"
      fi
      taskset -c 0 "$LOADGEN" --url "$warm_url" --body "$warm_s1" "${headers[@]}" -c 16 -n 300 \
        --warmup 1 >/dev/null
      taskset -c 0 "$LOADGEN" --url "$warm_url" --body "$warm_s2" "${headers[@]}" -c 16 -n 100 \
        --warmup 1 >/dev/null
      sleep 1
      before=$(rss_kb "$pid")
      hold_pass "$pid" "$url" "$body" "S5/$tgt" "$n" "${headers[@]}"
      during=$HOLD_DURING; after=$HOLD_AFTER; open=$HOLD_OPEN
      hold_pass "$pid" "$url" "$body" "S5/$tgt/again" "$n" "${headers[@]}"
      jq -nc --arg t "$tgt" --argjson n "$n" --argjson b "$before" --argjson d "$during" \
        --argjson a "$after" --argjson d2 "$HOLD_DURING" --argjson a2 "$HOLD_AFTER" \
        --argjson open "${open:-null}" \
        '{scenario: "S5", target: $t, streams: $n, opened: ($open.streams // 0),
          rss_before_kb: $b, rss_during_kb: $d, rss_after_kb: $a,
          rss_during_again_kb: $d2, rss_after_again_kb: $a2,
          kb_per_stream: (if ($open.streams // 0) > 0 then (($d - $b) / $open.streams) else null end),
          open: $open}' \
        | tee -a "$OUT" >/dev/null
      log "S5 $tgt $n streams: RSS $before → $during → $after KB; again → $HOLD_DURING → $HOLD_AFTER KB"
    done
  done
fi

jq -nc --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --argjson base "$RSS_BASE" \
  --argjson runs "$RSS_AFTER_RUNS" --argjson endrss "$(rss_kb "$PROXY_PID")" \
  '{meta_end: {load_end: $load, proxy_rss_kb_before_rounds: $base,
               proxy_rss_kb_after_rounds: $runs, proxy_rss_kb_end: $endrss}}' >>"$OUT"
log "raw results: $OUT"
python3 "$ROOT/bench/report.py" "$OUT"
