#!/usr/bin/env bash
# Writes the S3 request body to stdout: a real Claude Code turn (76 KB: 24 tools, the whole system
# prompt) made comparable with S1: same model and same user text as s1_small.json (so the same
# answer), not streamed, thinking switched off (adaptive thinking would add a reasoning block to
# the answer; the request size is the point).
#
#   bench/scenarios/make_s3.sh [capture.json] > s3_claude_code.json
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CAPTURE=${1:-$HERE/../../../shared/captures/claude-code/02_messages_say_hi_default_opus.json}
jq --arg t "$(jq -r '.messages[0].content' "$HERE/s1_small.json")" \
  '.body | .model = "claude-sonnet-4-5" | .stream = false
   | del(.thinking, .context_management, .output_config)
   | .messages |= map(if .role == "user" then .content[-1].text = $t else . end)' \
  "$CAPTURE"
