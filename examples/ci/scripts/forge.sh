# Sourced by comment.sh and reviewed.sh (not run on its own): the forge's API and the plan comment.
#
# GitHub Actions: the API is $GITHUB_API_URL, the token GITHUB_TOKEN (`${{ github.token }}`).
# GitLab CI: the API is $CI_API_V4_URL, the token RECONCILER_GITLAB_TOKEN (a project access token with
#   the `api` scope, as a masked CI/CD variable: CI_JOB_TOKEN cannot write notes).
# The plan comment is the one whose first line is $plan_marker; its last line may carry the digest of
# the plan it shows ($digest_prefix sha256:...).

plan_marker="<!-- reconciler-plan:${RECONCILER_COMMENT_KEY:-default} -->"
digest_prefix="<!-- reconciler-plan-digest:"
forge_response=$(mktemp)
trap 'rm -f "$forge_response"' EXIT

if [[ ${GITHUB_ACTIONS:-} == true ]]; then
  forge=github
  forge_auth=(-H "Authorization: Bearer ${GITHUB_TOKEN:?is not set: give the step env GITHUB_TOKEN from github.token}"
              -H "Accept: application/vnd.github+json" -H "X-GitHub-Api-Version: 2022-11-28")
  forge_repo="$GITHUB_API_URL/repos/$GITHUB_REPOSITORY"
elif [[ ${GITLAB_CI:-} == true ]]; then
  forge=gitlab
  forge_auth=(-H "PRIVATE-TOKEN: ${RECONCILER_GITLAB_TOKEN:?is not set: a project access token with the api scope}")
  forge_repo="$CI_API_V4_URL/projects/$CI_PROJECT_ID"
else
  echo "$(basename "$0"): neither GitHub Actions nor GitLab CI" >&2
  exit 1
fi

forge_api() { # forge_api METHOD URL [JSON_FILE]: print the answer; on an HTTP error, say which and fail
  local args=(--silent --show-error --max-time 30 --retry 3 -X "$1" "${forge_auth[@]}" -o "$forge_response" -w '%{http_code}')
  if [[ $# -ge 3 ]]; then
    args+=(-H "Content-Type: application/json" --data-binary "@$3")
  fi
  local status
  status=$(curl "${args[@]}" "$2")
  if [[ $status -lt 200 || $status -ge 300 ]]; then
    echo "$(basename "$0"): $1 $2 answered HTTP $status: $(head -c 500 "$forge_response")" >&2
    return 1
  fi
  cat "$forge_response"
}

comments_url() { # comments_url NUMBER: the pull request's comments (GitHub) or merge request's notes
  if [[ $forge == github ]]; then
    echo "$forge_repo/issues/$1/comments"
  else
    echo "$forge_repo/merge_requests/$1/notes"
  fi
}

find_plan_comment() { # find_plan_comment NUMBER: print "ID DIGEST" of the plan comment, or nothing
  local page=1 comments found
  while true; do
    comments=$(forge_api GET "$(comments_url "$1")?per_page=100&page=$page")
    found=$(python3 -c '
import json, sys
comments = json.load(sys.stdin)
if not comments:
    print("none")
for c in comments:
    if c["body"].startswith(sys.argv[1] + "\n"):
        last = c["body"].rstrip().splitlines()[-1]
        digest = last[len(sys.argv[2]):].strip(" ->") if last.startswith(sys.argv[2]) else ""
        print(c["id"], digest)
        break
' "$plan_marker" "$digest_prefix" <<< "$comments")
    if [[ $found == none ]]; then
      return 0
    elif [[ -n $found ]]; then
      echo "$found"
      return 0
    fi
    page=$((page + 1))
  done
}
