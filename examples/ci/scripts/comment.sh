#!/usr/bin/env bash
# Post the plan on the pull request (GitHub) or merge request (GitLab): ONE comment per pull request,
# found by its marker line and edited in place on every later push.
#
#   bash ci/reconciler/comment.sh plan.md
#
# GitHub Actions: needs GITHUB_TOKEN (`${{ github.token }}` with `pull-requests: write`); the pull
#   request is read from the event ($GITHUB_EVENT_PATH). GitLab CI: needs RECONCILER_GITLAB_TOKEN
#   (see forge.sh); the merge request is $CI_MERGE_REQUEST_IID. Elsewhere (a push to main): nothing.
# RECONCILER_COMMENT_KEY (default "default") tells apart the comments of several stacks in one repo.
# The comment ends with the digest of the plan (plan.digest, written by plan.sh), which reviewed.sh
# compares with the plan made on main after the merge.
# With no changes (plan.exitcode 0) and no earlier comment, nothing is posted. Without PLAN_MARKDOWN_FILE
# (a step before the plan failed), the comment says there is no plan, so that it never shows an old one.
set -euo pipefail

body_file=${1:?usage: comment.sh PLAN_MARKDOWN_FILE}
max_chars=60000 # GitHub refuses comments over 65536 characters

if [[ ${GITHUB_ACTIONS:-} == true ]]; then
  if [[ ${GITHUB_EVENT_NAME:-} != pull_request && ${GITHUB_EVENT_NAME:-} != pull_request_target ]]; then
    echo "not a pull request ($GITHUB_EVENT_NAME): no comment"
    exit 0
  fi
  number=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["pull_request"]["number"])' "$GITHUB_EVENT_PATH")
  head=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["pull_request"]["head"]["sha"])' "$GITHUB_EVENT_PATH")
  job_url="$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
  where="pull request #$number"
elif [[ ${GITLAB_CI:-} == true ]]; then
  if [[ -z ${CI_MERGE_REQUEST_IID:-} ]]; then
    echo "not a merge request pipeline: no note"
    exit 0
  fi
  number=$CI_MERGE_REQUEST_IID
  head=$CI_COMMIT_SHA
  job_url=${CI_JOB_URL:-}
  where="merge request !$number"
fi
source "$(dirname "${BASH_SOURCE[0]}")/forge.sh"
request=$(mktemp)
trap 'rm -f "$forge_response" "$request"' EXIT

found=$(find_plan_comment "$number")
read -r existing _ <<< "$found" || true

if [[ -z ${existing:-} && $(cat plan.exitcode 2> /dev/null || echo 2) == 0 ]]; then
  echo "no changes and no earlier plan comment on $where: nothing to post"
  exit 0
fi

if [[ ! -f $body_file ]]; then # an earlier step (validate, the install) failed: say so, not the old plan
  body_file=$(mktemp)
  {
    echo "### reconciler plan"
    echo
    echo ":x: **No plan**: a step before the plan failed. The error is in the job log${job_url:+: $job_url}."
  } > "$body_file"
fi
header="Plan for commit \`${head:0:12}\`${job_url:+ ([job log]($job_url))}, updated on every push."
digest=$(cat plan.digest 2> /dev/null || true)
python3 - "$plan_marker" "$header" "$body_file" "$max_chars" "${digest:+$digest_prefix $digest -->}" > "$request" << 'PYTHON'
import json, sys
marker, header, path, limit, digest = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
plan = open(path, encoding="utf-8").read()
if len(plan) > limit:
    plan = plan[:limit] + f"\n\n_(cut at {limit} characters: the whole plan is in the job summary and the plan artifact)_\n"
print(json.dumps({"body": f"{marker}\n{header}\n\n{plan.rstrip()}\n\n{digest}\n"}))
PYTHON

if [[ -n ${existing:-} ]]; then
  if [[ $forge == github ]]; then
    forge_api PATCH "$forge_repo/issues/comments/$existing" "$request" > /dev/null
  else
    forge_api PUT "$(comments_url "$number")/$existing" "$request" > /dev/null
  fi
  echo "updated the plan comment $existing on $where"
else
  id=$(forge_api POST "$(comments_url "$number")" "$request" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
  echo "posted the plan comment $id on $where"
fi
