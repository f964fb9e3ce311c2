#!/usr/bin/env bash
# Apply exactly a saved plan, and publish what was applied and what came out of it.
#
#   bash ci/reconciler/apply.sh [reconciler.plan]
#
# First prints the plan it applies (`reconciler show PLANFILE`), then runs
# `reconciler apply PLANFILE --json`, which refuses the plan (exit 1, nothing started) when the state
# moved since the plan was made, when the manifests differ, or when planning again now would start or
# delete anything else. Writes, in the current folder:
#   applied-plan.txt   the plan applied, as `reconciler show` prints it
#   apply.jsonl        one JSON event per line (run started / completed / failed, then a summary)
#   outputs.json       the recorded outputs (`reconciler output --json`; secrets as "(sensitive)")
#   apply-summary.md   the plan applied, the result and the outputs, in Markdown; on GitHub Actions
#                      also appended to $GITHUB_STEP_SUMMARY (the run's summary page)
# Exits with reconciler apply's exit code: 1 when a run failed or the plan was refused.
set -euo pipefail

plan_file=${1:-reconciler.plan}
lock_timeout=${RECONCILER_LOCK_TIMEOUT:-5m}

echo "The plan to apply ($plan_file):"
reconciler show "$plan_file" | tee applied-plan.txt

code=0
reconciler apply "$plan_file" --json --lock-timeout "$lock_timeout" | tee apply.jsonl || code=$?

# The outputs as recorded now (after a failed apply: what completed, and what was there before).
reconciler output --json > outputs.json || echo '{}' > outputs.json

result=$(
  python3 - apply.jsonl "$code" << 'PYTHON'
import json, sys
path, code = sys.argv[1], int(sys.argv[2])
summary = None
for line in open(path, encoding="utf-8"):
    line = line.strip()
    if line.startswith("{"):
        event = json.loads(line)
        if event.get("type") == "summary":
            summary = event
if summary is None:
    print(f":x: **Apply refused or failed before starting anything** (exit {code}): see the job log.")
else:
    counts = ", ".join(f"{n} {what}" for what, n in summary.get("results", {}).items() if n)
    mark = ":white_check_mark: **Apply complete**" if code == 0 else f":x: **Apply failed** (exit {code})"
    print(f"{mark}: {counts or 'nothing to do'}.")
    for problem in summary.get("problems", []):
        print(f"- {problem}")
PYTHON
)

{
  echo "### reconciler apply"
  echo
  echo "$result"
  echo
  echo "<details><summary>The plan applied (<code>reconciler show $plan_file</code>)</summary>"
  echo
  echo '```'
  cat applied-plan.txt
  echo '```'
  echo
  echo "</details>"
  echo
  echo "Outputs (\`reconciler output --json\`):"
  echo
  echo '```json'
  cat outputs.json
  echo '```'
} > apply-summary.md

if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
  cat apply-summary.md >> "$GITHUB_STEP_SUMMARY"
fi
echo "$result"
exit "$code"
