#!/usr/bin/env bash
# Plan, save the plan for the apply job, and publish it.
#
#   bash ci/reconciler/plan.sh [plan options, e.g. --var-file prod.vars.yaml]
#
# Writes, in the current folder:
#   reconciler.plan   the saved plan (`reconciler plan --out`), for `reconciler apply reconciler.plan`
#   plan.md           the plan in Markdown (for the pull-request comment and the job summary); when
#                     the plan fails, a short note saying so (the error itself is in the job log)
#   plan.exitcode     0 no changes, 2 changes, anything else: the plan failed
#   plan.digest       sha256 of what the plan does (`reconciler show --json`: each run's action,
#                     reason, workflow, inputs, diff), carried by the pull-request comment
# and publishes:
#   the job log       plan.md
#   GitHub Actions    plan.md appended to $GITHUB_STEP_SUMMARY; `changes=true|false` in $GITHUB_OUTPUT
# Exits 0 with or without changes, and with reconciler's exit code when the plan fails.
set -euo pipefail

plan_file=${RECONCILER_PLAN_FILE:-reconciler.plan}
if [[ -n ${GITHUB_RUN_ID:-} ]]; then
  job_url="${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}"
else
  job_url=${CI_JOB_URL:-}
fi

code=0
reconciler plan --out "$plan_file" --markdown --detailed-exitcode "$@" > plan.md || code=$?
echo "$code" > plan.exitcode
rm -f plan.digest
if [[ $code -eq 0 || $code -eq 2 ]]; then
  # What the plan does, as a reviewer sees it (each run's action, reason, workflow, inputs with
  # secrets as "(sensitive)", diff), for reviewed.sh to compare. Not the run keys: before the first
  # apply they hash secrets with a salt that differs from plan to plan.
  reconciler show --json "$plan_file" | python3 -c '
import hashlib, json, sys
changes = sorted(({k: v for k, v in c.items() if k != "key"} for c in json.load(sys.stdin)["changes"]), key=lambda c: c["run"])
print("sha256:" + hashlib.sha256(json.dumps(changes, sort_keys=True).encode()).hexdigest())
' > plan.digest
fi

case "$code" in
  0) changes=false ;;
  2) changes=true ;;
  *)
    changes=false
    {
      echo "### reconciler plan"
      echo
      echo ":x: **The plan failed** (exit $code). The error is in the job log${job_url:+: $job_url}."
    } > plan.md
    ;;
esac

cat plan.md
if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
  cat plan.md >> "$GITHUB_STEP_SUMMARY"
fi
if [[ -n ${GITHUB_OUTPUT:-} ]]; then
  echo "changes=$changes" >> "$GITHUB_OUTPUT"
fi

if [[ $code -ne 0 && $code -ne 2 ]]; then
  echo "reconciler plan failed (exit $code)" >&2
  exit "$code"
fi
