#!/usr/bin/env bash
# `make demo`: the demo stack against the local emulator, from nothing to applied and back to "no changes".
set -euo pipefail
cd "$(dirname "$0")/.."

port="${DEMO_PORT:-0}"                         # 0: any free port (the emulator says which)
mkdir -p .demo
rm -f .demo/reconciler.state.json .demo/reconciler.state.json.* .demo/emulator.log

export DEMO_VCD_PASSWORD=admin                 # the emulator's demo user admin@System
export DEMO_ADMIN_PASSWORD="demo-$(date +%s)"  # the VMs' admin password: a secret from the environment

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

step "reconciler emulator --port ${port}   (a local VCD-compatible API on 127.0.0.1, demo catalog)"
reconciler emulator --port "${port}" >.demo/emulator.log 2>&1 &
emulator_pid=$!
trap 'kill ${emulator_pid} 2>/dev/null || true; wait ${emulator_pid} 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q "listening on" .demo/emulator.log 2>/dev/null && break
  kill -0 "${emulator_pid}" 2>/dev/null || { cat .demo/emulator.log; exit 1; }
  sleep 0.1
done
grep -q "listening on" .demo/emulator.log || { echo "the emulator did not start"; cat .demo/emulator.log; exit 1; }
RECONCILER_ENDPOINT="$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' .demo/emulator.log | head -n 1)"
export RECONCILER_ENDPOINT                    # overrides spec.endpoint.url of reconciler.yaml
echo "emulator at ${RECONCILER_ENDPOINT}"

step "reconciler validate"
reconciler validate

step "reconciler plan"
reconciler plan

step "reconciler apply --auto-approve"
reconciler apply --auto-approve

step "reconciler output"
reconciler output

step "reconciler plan --detailed-exitcode   (again: nothing left to do, exit code 0)"
reconciler plan --detailed-exitcode
echo "exit code: $?"

step "done: the state is in .demo/reconciler.state.json; the emulator is stopped"
