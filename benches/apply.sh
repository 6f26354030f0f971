#!/usr/bin/env bash
# Benchmark: `scimdrift apply` of N deactivations against the local Slack emulator at Slack's
# rate limits, time-scaled (SCALE x faster, client limits scaled alike). Prints the achieved
# write rate as a share of Slack's PATCH limit (180/min), 429s received and failures.
# Each action reads its account by id before the PATCH and confirms it through the listing
# (filter=userName eq), so the 300/min of GET /Users/{id} does not cap the writes.
# Usage: benches/apply.sh [ACTIONS=500] [SCALE=10]
set -euo pipefail
cd "$(dirname "$0")/.."
actions=${1:-500}; scale=${2:-10}
users=$(( actions * 2 ))

cargo build --release --quiet --bin scimdrift --example slack-emulator
work=$(mktemp -d); trap 'kill $emu 2>/dev/null || true; rm -rf "$work"' EXIT
target/release/examples/slack-emulator --users "$users" --time-scale "$scale" > "$work/emu.out" &
emu=$!
for _ in $(seq 1 600); do grep -q "http://" "$work/emu.out" 2>/dev/null && break; sleep 0.1; done
base=$(grep -o 'http://[^ ]*/scim/v2' "$work/emu.out" | head -1)
export SLACK_SCIM_TOKEN=xoxp-emulator

target/release/scimdrift -q fetch slack --url "$base" --out "$work/snap" --no-groups
# A JumpCloud export in which the first N active people are suspended and the rest active.
python3 - "$work/snap/users" "$actions" > "$work/jc.json" <<'PY'
import json, os, sys
pages, n = sys.argv[1], int(sys.argv[2])
users = []
for name in sorted(os.listdir(pages)):
    users += json.load(open(os.path.join(pages, name)))["Resources"]
out, picked = [], 0
for i, u in enumerate(users):
    email = next((e["value"] for e in u.get("emails", []) if e.get("value")), None)
    if not email or email.endswith("@slack-bots.com"):
        continue
    suspend = u.get("active", True) and picked < n and "owner" not in u.get("userName", "")
    picked += bool(suspend)
    out.append({"_id": f"jc{i:07d}", "email": email, "suspended": suspend,
                "state": "SUSPENDED" if suspend else "ACTIVATED"})
json.dump({"totalCount": len(out), "results": out}, sys.stdout)
PY
target/release/scimdrift -q plan --jumpcloud "$work/jc.json" --slack "$work/snap" --out "$work/plan.json" > /dev/null
planned=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["actions"]))' "$work/plan.json")

start=$(date +%s.%N)
set +e
target/release/scimdrift apply "$work/plan.json" --slack-url "$base" --yes --format json \
  --max-changes "$planned" --max-writes-per-minute $(( 170 * scale )) \
  --max-reads-per-minute $(( 280 * scale )) --max-rpm $(( 900 * scale )) -v > "$work/apply.json" 2> "$work/apply.err"
rc=$?
set -e
end=$(date +%s.%N)
python3 - "$start" "$end" "$planned" "$scale" "$rc" "$work/apply.json" "$work/apply.err" <<'PY'
import json, sys
start, end, planned, scale, rc, out, err = sys.argv[1:]
wall = float(end) - float(start); scale = int(scale)
report = json.load(open(out))
log = open(err).read()
patches = log.count("PATCH /Users/")
single_reads = log.count("GET /Users/")
listing_reads = log.count("GET /Users?filter")
r429 = log.count("-> 429")
limit = 180 * scale / 60.0
rate = patches / wall
print(f"apply: {planned} actions, emulator time scale {scale}x (PATCH limit {180*scale}/min = {limit:.1f}/s)")
print(f"  wall {wall:.2f} s, {patches} PATCH requests, {single_reads} GET /Users/{{id}} (before each PATCH), {listing_reads} filtered listing reads (confirmations), {r429} x 429, exit {rc}")
print(f"  outcomes: {report['summary']}")
print(f"  achieved write rate {rate:.2f}/s = {100*rate/limit:.0f}% of Slack's PATCH limit")
PY
