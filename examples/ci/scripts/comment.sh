#!/usr/bin/env bash
# Post the plan on the pull request (GitHub) or merge request (GitLab): ONE comment per pull request,
# found by its marker line and edited in place on every later push.
#
#   bash ci/reconciler/comment.sh plan.md
#
# GitHub Actions: needs GITHUB_TOKEN (`${{ github.token }}` with `pull-requests: write`); the pull
#   request number is read from the event ($GITHUB_EVENT_PATH); the API is $GITHUB_API_URL.
# GitLab CI: needs RECONCILER_GITLAB_TOKEN (a project access token with the `api` scope, as a masked
#   CI/CD variable: CI_JOB_TOKEN cannot write notes); the API is $CI_API_V4_URL.
# RECONCILER_COMMENT_KEY (default "default") tells apart the comments of several stacks in one repo.
# With no changes (plan.exitcode 0) and no earlier comment, nothing is posted.
set -euo pipefail

body_file=${1:?usage: comment.sh PLAN_MARKDOWN_FILE}
marker="<!-- reconciler-plan:${RECONCILER_COMMENT_KEY:-default} -->"
max_chars=60000 # GitHub refuses comments over 65536 characters

json_field() { # json_field FIELD: print FIELD of the JSON document on stdin
  python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

if [[ ${GITHUB_ACTIONS:-} == true ]]; then
  if [[ ${GITHUB_EVENT_NAME:-} != pull_request && ${GITHUB_EVENT_NAME:-} != pull_request_target ]]; then
    echo "not a pull request ($GITHUB_EVENT_NAME): no comment"
    exit 0
  fi
  number=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["pull_request"]["number"])' "$GITHUB_EVENT_PATH")
  head=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["pull_request"]["head"]["sha"])' "$GITHUB_EVENT_PATH")
  list_url="$GITHUB_API_URL/repos/$GITHUB_REPOSITORY/issues/$number/comments"
  edit_url="$GITHUB_API_URL/repos/$GITHUB_REPOSITORY/issues/comments"
  edit_method=PATCH
  auth=(-H "Authorization: Bearer ${GITHUB_TOKEN:?is not set: give the step env GITHUB_TOKEN from github.token}"
        -H "Accept: application/vnd.github+json" -H "X-GitHub-Api-Version: 2022-11-28")
  job_url="$GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID"
  where="pull request #$number"
elif [[ ${GITLAB_CI:-} == true ]]; then
  if [[ -z ${CI_MERGE_REQUEST_IID:-} ]]; then
    echo "not a merge request pipeline: no note"
    exit 0
  fi
  list_url="$CI_API_V4_URL/projects/$CI_PROJECT_ID/merge_requests/$CI_MERGE_REQUEST_IID/notes"
  edit_url=$list_url
  edit_method=PUT
  auth=(-H "PRIVATE-TOKEN: ${RECONCILER_GITLAB_TOKEN:?is not set: a project access token with the api scope}")
  head=$CI_COMMIT_SHA
  job_url=${CI_JOB_URL:-}
  where="merge request !$CI_MERGE_REQUEST_IID"
else
  echo "comment.sh: neither GitHub Actions nor GitLab CI" >&2
  exit 1
fi

response=$(mktemp)
request=$(mktemp)
trap 'rm -f "$response" "$request"' EXIT

api() { # api METHOD URL [JSON_FILE]: print the answer; on an HTTP error, say which and fail
  local args=(--silent --show-error --max-time 30 --retry 3 -X "$1" "${auth[@]}" -o "$response" -w '%{http_code}')
  if [[ $# -ge 3 ]]; then
    args+=(-H "Content-Type: application/json" --data-binary "@$3")
  fi
  local status
  status=$(curl "${args[@]}" "$2")
  if [[ $status -lt 200 || $status -ge 300 ]]; then
    echo "comment.sh: $1 $2 answered HTTP $status: $(head -c 500 "$response")" >&2
    return 1
  fi
  cat "$response"
}

# The comment that carries the marker on its first line, looked for on every page.
existing=""
page=1
while [[ -z $existing ]]; do
  comments=$(api GET "$list_url?per_page=100&page=$page")
  count=$(python3 -c 'import json, sys; print(len(json.load(sys.stdin)))' <<< "$comments")
  if [[ $count -eq 0 ]]; then
    break
  fi
  existing=$(python3 -c '
import json, sys
for c in json.load(sys.stdin):
    if c["body"].startswith(sys.argv[1] + "\n"):
        print(c["id"])
        break
' "$marker" <<< "$comments")
  page=$((page + 1))
done

if [[ -z $existing && $(cat plan.exitcode 2> /dev/null || echo 2) == 0 ]]; then
  echo "no changes and no earlier plan comment on $where: nothing to post"
  exit 0
fi

header="Plan for commit \`${head:0:12}\`${job_url:+ ([job log]($job_url))}, updated on every push."
python3 - "$marker" "$header" "$body_file" "$max_chars" > "$request" << 'PYTHON'
import json, sys
marker, header, path, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
plan = open(path, encoding="utf-8").read()
if len(plan) > limit:
    plan = plan[:limit] + f"\n\n_(cut at {limit} characters: the whole plan is in the job summary and the plan artifact)_\n"
print(json.dumps({"body": f"{marker}\n{header}\n\n{plan}"}))
PYTHON

if [[ -n $existing ]]; then
  api "$edit_method" "$edit_url/$existing" "$request" | json_field id > /dev/null
  echo "updated the plan comment $existing on $where"
else
  id=$(api POST "$list_url" "$request" | json_field id)
  echo "posted the plan comment $id on $where"
fi
