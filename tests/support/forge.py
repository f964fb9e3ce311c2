"""A fake forge API on 127.0.0.1 for the CI pipeline tests: the few GitHub and GitLab REST calls the
pipeline scripts make to keep one plan comment per pull request, with pagination and token checks.

GitHub (base ``{url}/api/v3``, like GitHub Enterprise's ``GITHUB_API_URL``)::

    GET   /repos/{owner}/{repo}/issues/{number}/comments?per_page=N&page=P
    POST  /repos/{owner}/{repo}/issues/{number}/comments          {"body": ...}  -> 201
    PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}      {"body": ...}  -> 200
    GET   /repos/{owner}/{repo}/commits/{sha}/pulls               the pull requests merged as sha

GitLab (base ``{url}/api/v4``, like ``CI_API_V4_URL``)::

    GET  /projects/{id}/merge_requests/{iid}/notes?per_page=N&page=P
    POST /projects/{id}/merge_requests/{iid}/notes                {"body": ...}  -> 201
    PUT  /projects/{id}/merge_requests/{iid}/notes/{note_id}      {"body": ...}  -> 200
    GET  /projects/{id}/repository/commits/{sha}/merge_requests   the merge requests merged as sha

GitHub wants ``Authorization: Bearer TOKEN`` (or ``token TOKEN``), GitLab ``PRIVATE-TOKEN: TOKEN``;
anything else is 401. Every request is recorded (`Forge.requests`), every comment kept in order of
creation (`Forge.comments`), so a test can count what a pipeline posted and edited.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

GITHUB_TOKEN = "ghs_fake-token-for-tests"
GITLAB_TOKEN = "glpat-fake-token-for-tests"
MAX_PER_PAGE = 100


@dataclass
class Comment:
    id: int
    author: str
    body: str
    edits: int = 0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    status: int


@dataclass
class Forge:
    """The recorded state of the fake forge. ``threads`` are keyed ``("github", "owner/repo", number)``
    or ``("gitlab", project_id, iid)``."""

    url: str = ""
    threads: dict[tuple[str, str, int], list[Comment]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    merges: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (forge, project, sha) -> number
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_id: int = 1000

    @property
    def github_api(self) -> str:
        return f"{self.url}/api/v3"

    @property
    def gitlab_api(self) -> str:
        return f"{self.url}/api/v4"

    def merge(self, forge: str, project: str, number: int, sha: str) -> None:
        """Pull (merge) request ``number`` was merged as commit ``sha``."""
        with self.lock:
            self.merges[(forge, project, sha)] = number

    def merged_as(self, forge: str, project: str, sha: str) -> list[dict[str, Any]]:
        with self.lock:
            number = self.merges.get((forge, project, sha))
        if number is None:
            return []
        if forge == "github":
            return [{"number": number, "state": "closed", "merged_at": "2026-01-01T00:00:00Z", "merge_commit_sha": sha}]
        return [{"iid": number, "state": "merged", "merge_commit_sha": sha, "squash_commit_sha": None}]

    def comments(self, forge: str, project: str, number: int) -> list[Comment]:
        with self.lock:
            return list(self.threads.get((forge, project, number), []))

    def add(self, forge: str, project: str, number: int, body: str, author: str) -> Comment:
        with self.lock:
            self.next_id += 1
            comment = Comment(self.next_id, author, body)
            self.threads.setdefault((forge, project, number), []).append(comment)
            return comment

    def edit(self, forge: str, project: str, number: int | None, comment_id: int, body: str) -> Comment | None:
        """Edit a comment of ``project`` (of its thread ``number`` too, unless None: GitHub's edit
        path names only the repository)."""
        with self.lock:
            for key, comments in self.threads.items():
                if key[:2] != (forge, project) or number not in (None, key[2]):
                    continue
                for comment in comments:
                    if comment.id == comment_id:
                        comment.body = body
                        comment.edits += 1
                        return comment
            return None


_GITHUB_LIST = re.compile(r"^/api/v3/repos/([^/]+/[^/]+)/issues/(\d+)/comments$")
_GITHUB_EDIT = re.compile(r"^/api/v3/repos/([^/]+/[^/]+)/issues/comments/(\d+)$")
_GITLAB_LIST = re.compile(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes$")
_GITLAB_EDIT = re.compile(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes/(\d+)$")
_GITHUB_MERGED = re.compile(r"^/api/v3/repos/([^/]+/[^/]+)/commits/([0-9a-f]+)/pulls$")
_GITLAB_MERGED = re.compile(r"^/api/v4/projects/([^/]+)/repository/commits/([0-9a-f]+)/merge_requests$")


def _view(forge: str, comment: Comment) -> dict[str, Any]:
    if forge == "github":
        return {"id": comment.id, "body": comment.body, "user": {"login": comment.author}}
    return {"id": comment.id, "body": comment.body, "author": {"username": comment.author}, "system": False}


class _Handler(BaseHTTPRequestHandler):
    forge: Forge  # set on the subclass made by `serve`

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        with self.forge.lock:
            self.forge.requests.append(Request(self.command, self.path, status))

    def _body(self) -> str | None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except ValueError:
            return None
        return body.get("body") if isinstance(body, dict) and isinstance(body.get("body"), str) else None

    def _authorized(self, forge: str) -> bool:
        if forge == "github":
            return self.headers.get("Authorization") in (f"Bearer {GITHUB_TOKEN}", f"token {GITHUB_TOKEN}")
        return self.headers.get("PRIVATE-TOKEN") == GITLAB_TOKEN

    def _route(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        forge = "github" if path.startswith("/api/v3/") else "gitlab" if path.startswith("/api/v4/") else ""
        if not forge:
            self._answer(404, {"message": "Not Found"})
            return
        if not self._authorized(forge):
            self._answer(401, {"message": "Bad credentials" if forge == "github" else "401 Unauthorized"})
            return
        merged = (_GITHUB_MERGED if forge == "github" else _GITLAB_MERGED).match(path)
        if merged and self.command == "GET":
            self._answer(200, self.forge.merged_as(forge, merged.group(1), merged.group(2)))
            return
        listing = (_GITHUB_LIST if forge == "github" else _GITLAB_LIST).match(path)
        if listing:
            thread = (forge, listing.group(1), int(listing.group(2)))
            if self.command == "GET":
                per_page = min(int(query.get("per_page", ["30" if forge == "github" else "20"])[0]), MAX_PER_PAGE)
                page = int(query.get("page", ["1"])[0])
                found = self.forge.comments(*thread)[(page - 1) * per_page : page * per_page]
                self._answer(200, [_view(forge, c) for c in found])
                return
            if self.command == "POST":
                body = self._body()
                if body is None:
                    self._answer(422 if forge == "github" else 400, {"message": "body is missing"})
                    return
                self._answer(201, _view(forge, self.forge.add(*thread, body=body, author="reconciler-bot")))
                return
        if forge == "github" and self.command == "PATCH" and (edit := _GITHUB_EDIT.match(path)):
            self._edit(forge, edit.group(1), None, int(edit.group(2)))
            return
        if forge == "gitlab" and self.command == "PUT" and (edit := _GITLAB_EDIT.match(path)):
            self._edit(forge, edit.group(1), int(edit.group(2)), int(edit.group(3)))
            return
        self._answer(404, {"message": "Not Found"})

    def _edit(self, forge: str, project: str, number: int | None, comment_id: int) -> None:
        body = self._body()
        if body is None:
            self._answer(422 if forge == "github" else 400, {"message": "body is missing"})
            return
        comment = self.forge.edit(forge, project, number, comment_id, body)
        if comment is None:
            self._answer(404, {"message": "Not Found"})
            return
        self._answer(200, _view(forge, comment))

    do_GET = do_POST = do_PATCH = do_PUT = _route


@contextmanager
def serve() -> Iterator[Forge]:
    """A fake forge listening on 127.0.0.1 (a free port) until the block ends."""
    forge = Forge()
    handler = type("Handler", (_Handler,), {"forge": forge})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    forge.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield forge
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
