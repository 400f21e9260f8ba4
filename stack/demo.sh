#!/usr/bin/env bash
# make demo: start the local stack, run the example Go benchmark, and show its series in
# VictoriaMetrics with PromQL.
set -euo pipefail
cd "$(dirname "$0")/.."
BHUBCTL="$PWD/.venv/bin/bhubctl"
VM="http://127.0.0.1:${BENCHHUB_STACK_VM_PORT:-8428}"
# bhubctl run talks to the stack this script starts, on whatever ports it was given
export BENCHHUB_CENTRAL_URL="${BENCHHUB_CENTRAL_URL:-http://127.0.0.1:${BENCHHUB_STACK_CENTRAL_PORT:-8090}}"
export BENCHHUB_AGENT_URL="${BENCHHUB_AGENT_URL:-http://127.0.0.1:${BENCHHUB_STACK_AGENT_PORT:-9465}}"

"$BHUBCTL" stack up
cd examples/strings
overrides=()
if ! git rev-parse HEAD >/dev/null 2>&1; then
  overrides=(--commit "demo$(date +%s)" --branch demo)   # not a git checkout (e.g. a tarball)
fi
"$BHUBCTL" run strings "${overrides[@]}"
"$BHUBCTL" run gofmt "${overrides[@]}"
"$BHUBCTL" run gofmt-instructions "${overrides[@]}"
commit="${overrides[1]:-$(git rev-parse HEAD)}"

echo "==> waiting for central's write of the results (through vmagent) into VictoriaMetrics"
CENTRAL="$BENCHHUB_CENTRAL_URL"
TOKEN="$(cat "${BENCHHUB_HOME:-$HOME/.local/share/benchhub}/secrets/token")"  # written by 'stack up'
run_id=$(curl -fsS -H "Authorization: Bearer $TOKEN" "$CENTRAL/api/v1/runs?target=strings&commit=$commit&limit=1" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["data"][0]["id"])')
query="benchhub_benchmark_value{commit=\"$commit\",run_id=\"$run_id\",measure=\"time\"}"
for _ in $(seq 1 60); do
  curl -fsS "$VM/internal/force_flush" >/dev/null || true
  if curl -fsS "$VM/api/v1/query" --data-urlencode "query=$query" | grep -q '"benchmark"'; then
    echo "==> PromQL: $query"
    curl -fsS "$VM/api/v1/query" --data-urlencode "query=$query" | python3 -c '
import json, sys
for s in json.load(sys.stdin)["data"]["result"]:
    m = s["metric"]
    b, u, r, v = m["benchmark"], m["unit"], m["run_id"], float(s["value"][1])
    print(f"  {b:<28} {v:.3e} {u}  run_id={r}")'
    echo "==> the stack keeps running: 'bhubctl stack status', 'bhubctl stack down'"
    exit 0
  fi
  sleep 1
done
echo "error: the results did not reach VictoriaMetrics within 60 s; see 'bhubctl stack logs vmagent'" >&2
exit 1
