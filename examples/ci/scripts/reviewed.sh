#!/usr/bin/env bash
# On main, after the merge: is the plan just made the one last commented on the pull request (GitHub)
# or merge request (GitLab) merged as this commit? Compares plan.digest (written by plan.sh) with the
# digest the plan comment carries (written by comment.sh).
#
#   bash ci/reconciler/reviewed.sh
#
# Says which in the job log, at the end of plan.md and in the GitHub job summary. With
# RECONCILER_REQUIRE_REVIEWED_PLAN=true it exits 1 unless the plan is the reviewed one, so that the
# apply job never runs a plan nobody saw on a pull request. In a pull-request pipeline, or when the plan
# has no changes or failed, there is nothing to check.
# Needs the forge API like comment.sh (see forge.sh); GitHub: `pull-requests: read`.
set -euo pipefail

if [[ ${GITHUB_EVENT_NAME:-} == pull_request* || -n ${CI_MERGE_REQUEST_IID:-} ]]; then
  echo "a pull-request pipeline: nothing to check"
  exit 0
fi
if [[ $(cat plan.exitcode 2> /dev/null || echo 1) != 2 ]]; then
  echo "no changes to apply (or no plan): nothing to check"
  exit 0
fi
source "$(dirname "${BASH_SOURCE[0]}")/forge.sh"

if [[ $forge == github ]]; then
  sha=$GITHUB_SHA
  number=$(forge_api GET "$forge_repo/commits/$sha/pulls" | python3 -c '
import json, sys
merged = [p for p in json.load(sys.stdin) if p.get("merged_at")]
exact = [p for p in merged if p.get("merge_commit_sha") == sys.argv[1]]
print((exact or merged or [{"number": ""}])[0]["number"])
' "$sha")
  name="pull request #$number"
else
  sha=$CI_COMMIT_SHA
  number=$(forge_api GET "$forge_repo/repository/commits/$sha/merge_requests" | python3 -c '
import json, sys
merged = [m for m in json.load(sys.stdin) if m.get("state") == "merged"]
exact = [m for m in merged if sys.argv[1] in (m.get("merge_commit_sha"), m.get("squash_commit_sha"))]
print((exact or merged or [{"iid": ""}])[0]["iid"])
' "$sha")
  name="merge request !$number"
fi

mine=$(cat plan.digest)
same=false
if [[ -z $number ]]; then
  verdict=":warning: **Not reviewed**: no merged pull request for commit \`${sha:0:12}\`. Read this plan before approving the apply."
else
  found=$(find_plan_comment "$number")
  read -r comment reviewed <<< "$found" || true
  if [[ -z ${comment:-} ]]; then
    verdict=":warning: **Not reviewed**: $name has no plan comment. Read this plan before approving the apply."
  elif [[ ${reviewed:-} == "$mine" ]]; then
    verdict=":white_check_mark: **Reviewed**: this plan does what the plan last commented on $name showed (the same runs, actions and inputs)."
    same=true
  else
    verdict=":warning: **Not the reviewed plan**: it differs from the plan last commented on $name (main or the server changed since). Read this plan before approving the apply."
  fi
fi

echo "$verdict"
printf '\n%s\n' "$verdict" >> plan.md
if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then
  printf '\n%s\n' "$verdict" >> "$GITHUB_STEP_SUMMARY"
fi
if [[ $same != true && ${RECONCILER_REQUIRE_REVIEWED_PLAN:-false} == true ]]; then
  echo "RECONCILER_REQUIRE_REVIEWED_PLAN=true: this plan is not the reviewed one; nothing will be applied" >&2
  exit 1
fi
