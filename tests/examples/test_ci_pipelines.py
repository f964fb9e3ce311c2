"""The CI pipelines of ``examples/ci`` run as the CI runners would run them.

The steps are read from the YAML itself (``run:`` steps of GitHub Actions, ``script:`` of GitLab CI),
so the test breaks when the YAML breaks. They run with the runner's shell options (GitHub: ``bash
--noprofile --norc -eo pipefail {0}`` with ``shell: bash``, ``bash -e {0}`` without; GitLab's docker
executor: its generated script piped into ``/bin/bash``), the documented environment variables
(``GITHUB_EVENT_NAME``, ``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``, ``GITHUB_API_URL``...;
``CI_PIPELINE_SOURCE``, ``CI_MERGE_REQUEST_IID``, ``CI_API_V4_URL``...), a fresh workspace per job
(files pass between jobs only as artifacts), against the real emulator, the real PostgreSQL backend
(a workspace of its own) and a fake forge API on 127.0.0.1 (`tests.support.forge`) that records
comments. The ``uses:`` actions the pipelines need (checkout, setup-python, upload/download-artifact)
and GitLab's ``rules``/``workflow: rules``/``needs``/``artifacts`` are modelled here; anything else in
the YAML fails the test rather than being skipped silently. The install step is not run (no network):
the venv's ``reconciler`` is on PATH, and the step's text must be the one ``examples/ci/README.md``
documents.

Story, for each forge: a pull request with changes gets one plan comment; a second push updates that
same comment; the merge plans and applies (the plan printed and published, apply.jsonl and the
outputs uploaded); a plan whose state moved before the apply is refused; a failing run fails the job.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import forge as fake_forge
from tests.support.e2e import (
    CATALOG,
    CLI,
    ECHO,
    FAILS,
    PASSWORD,
    READS,
    SECRET,
    Emulator,
    cli_for_scripts,
    start_emulator,
    stop,
)

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "examples" / "ci"
GITHUB_YML = CI / "github-actions.yml"
GITLAB_YML = CI / "gitlab-ci.yml"
CI_README = CI / "README.md"
SCRIPTS_IN_REPO = "ci/reconciler"  # where examples/ci/README.md says to copy examples/ci/scripts/
VENV_BIN = Path(CLI).parent
PG_DSN = os.environ.get("RECONCILER_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
SECRET_INPUT = "web01-pw-must-not-leak-7c1e"
MARKER = "<!-- reconciler-plan:default -->"
STEP_TIMEOUT = 180

pytestmark = pytest.mark.timeout(600)


# --------------------------------------------------------------------------------------------------
# GitHub Actions expressions: the subset the workflow uses; anything else is an error.

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\)|\.)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_-]*))"
)
_STATUS_FUNCTIONS = ("success()", "failure()", "always()", "cancelled()")


def _tokens(text: str) -> list[tuple[str, str]]:
    found, at = [], 0
    text = text.strip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        assert match and match.end() > at, f"unsupported expression: {text!r} at {at}"
        kind = match.lastgroup
        assert kind is not None
        found.append((kind, match.group(kind)))
        at = match.end()
    return found


def _truthy(value: Any) -> bool:
    return value not in (None, False, 0, "")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Expression:
    """Recursive descent over ``||``, ``&&``, ``!``, ``==``/``!=``, literals, context paths and the
    status functions, with GitHub's loose, case-insensitive string comparison."""

    def __init__(self, text: str, context: Mapping[str, Any], status: Mapping[str, bool]) -> None:
        self.tokens, self.at, self.context, self.status, self.text = _tokens(text), 0, context, status, text

    def value(self) -> Any:
        result = self._or()
        assert self.at == len(self.tokens), f"unsupported expression: {self.text!r}"
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) and self.tokens[self.at][0] == "op" else None

    def _take(self) -> tuple[str, str]:
        assert self.at < len(self.tokens), f"unexpected end of expression: {self.text!r}"
        self.at += 1
        return self.tokens[self.at - 1]

    def _or(self) -> Any:
        left = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            left = left if _truthy(left) else right
        return left

    def _and(self) -> Any:
        left = self._not()
        while self._peek() == "&&":
            self._take()
            right = self._not()
            left = right if _truthy(left) else left
        return left

    def _not(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not _truthy(self._not())
        left = self._primary()
        if self._peek() in ("==", "!="):
            op = self._take()[1]
            right = self._primary()
            same = _text(left).casefold() == _text(right).casefold()
            return same if op == "==" else not same
        return left

    def _primary(self) -> Any:
        kind, token = self._take()
        if kind == "op" and token == "(":
            inner = self._or()
            assert self._take() == ("op", ")"), self.text
            return inner
        if kind == "str":
            return token[1:-1].replace("''", "'")
        if kind == "num":
            return float(token)
        assert kind == "name", f"unsupported expression: {self.text!r}"
        if token in ("true", "false"):
            return token == "true"
        if token == "null":
            return None
        if self._peek() == "(":
            self._take()
            assert self._take() == ("op", ")"), f"only argument-less functions: {self.text!r}"
            assert f"{token}()" in _STATUS_FUNCTIONS, f"unsupported function {token}() in {self.text!r}"
            return self.status[token]
        value: Any = self.context.get(token)
        while self._peek() == ".":
            self._take()
            name = self._take()[1]
            value = value.get(name) if isinstance(value, Mapping) else None
        return value


def gh_condition(text: str | bool, context: Mapping[str, Any], status: Mapping[str, bool]) -> bool:
    """An ``if:`` (with or without ``${{ }}``); without a status function, ``success() &&`` is implied."""
    if isinstance(text, bool):
        return text
    text = text.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    if not any(f in text.replace(" ", "") for f in _STATUS_FUNCTIONS):
        text = f"success() && ({text})"
    return _truthy(_Expression(text, context, status).value())


def gh_render(text: Any, context: Mapping[str, Any]) -> str:
    """A value with ``${{ expr }}`` parts replaced (status functions are not allowed there)."""
    return re.sub(
        r"\$\{\{(.*?)\}\}", lambda m: _text(_Expression(m.group(1), context, {}).value()), _text(text), flags=re.DOTALL
    )


def gh_path_matches(pattern: str, path: str) -> bool:
    """GitHub's ``paths`` filter: ``**`` crosses folders (``**/`` also matches none), ``*`` does not."""
    regex = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            regex, i = regex + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            regex, i = regex + ".*", i + 2
        elif pattern[i] == "*":
            regex, i = regex + "[^/]*", i + 1
        elif pattern[i] == "?":
            regex, i = regex + "[^/]", i + 1
        else:
            regex, i = regex + re.escape(pattern[i]), i + 1
    return re.fullmatch(regex, path) is not None


# --------------------------------------------------------------------------------------------------
# What both runners share: a job's result, the documented install step, copying files.


@dataclass
class Job:
    name: str
    result: str  # success | failure | skipped
    log: str = ""
    summary: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)  # the shell steps run, as written in the YAML

    def __repr__(self) -> str:
        return f"job {self.name}: {self.result}\n{self.log}"


def documented_install(line: str) -> None:
    """The install step is not run (no network in tests): its text must be the documented one."""
    assert line.startswith('pip install "reconciler @ '), line
    assert line in CI_README.read_text(encoding="utf-8"), f"{CI_README.name} does not document: {line}"


def copy_files(source: Path, patterns: Sequence[str], target: Path) -> list[str]:
    """Copy the files matching ``patterns`` (relative to ``source``) into ``target``."""
    copied = []
    for pattern in patterns:
        for found in sorted(source.glob(pattern)):
            if found.is_file():
                relative = found.relative_to(source)
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(found, target / relative)
                copied.append(str(relative))
    return copied


def run_shell(argv: list[str], cwd: Path, env: Mapping[str, str], stdin: str = "") -> tuple[int, str]:
    done = subprocess.run(
        argv, cwd=cwd, env=dict(env), input=stdin, capture_output=True, text=True, timeout=STEP_TIMEOUT
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done.returncode, done.stdout + done.stderr


def base_env(home: Path) -> dict[str, str]:
    """A runner's environment: nothing inherited from the test process but a PATH with the venv first
    (its ``reconciler`` and ``python3``, as setup-python / the image provide them; ``reconciler`` forked
    from the tests' fork server, `cli_for_scripts`) and the system's ``bash``, ``curl``."""
    cli = Path(cli_for_scripts()).parent
    return {"PATH": f"{cli}:{VENV_BIN}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}


# --------------------------------------------------------------------------------------------------
# The GitHub Actions runner model.


@dataclass
class GitHubRun:
    """One workflow run for one event: its jobs in order, each on a fresh workspace."""

    workflow: dict[str, Any]
    event_name: str
    event: dict[str, Any]
    sha: str
    ref: str
    repo: Path  # the repository at this commit: what actions/checkout gives
    folder: Path
    api_url: str
    secrets: dict[str, str]
    run_id: int
    artifacts: dict[str, Path] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)

    def run(self, before_job: Callable[[str], None] | None = None) -> dict[str, Job]:
        for name in self.workflow["jobs"]:
            if before_job is not None:
                before_job(name)
            self.jobs[name] = self._job(name)
        return self.jobs

    def _context(self, needs: Sequence[str]) -> dict[str, Any]:
        return {
            "github": {
                "event_name": self.event_name,
                "event": self.event,
                "sha": self.sha,
                "ref": self.ref,
                "repository": "acme/infra",
                "token": fake_forge.GITHUB_TOKEN,
            },
            "secrets": self.secrets,
            "needs": {n: {"result": self.jobs[n].result, "outputs": self.jobs[n].outputs} for n in needs},
            "steps": {},
        }

    def _job(self, name: str) -> Job:
        spec = self.workflow["jobs"][name]
        needs = [spec["needs"]] if isinstance(spec.get("needs"), str) else list(spec.get("needs", []))
        context = self._context(needs)
        needs_ok = all(self.jobs[n].result == "success" for n in needs)
        status = {"success": needs_ok, "failure": not needs_ok, "always": True, "cancelled": False}
        if not gh_condition(spec.get("if", "success()"), context, status):
            return Job(name, "skipped")
        folder = self.folder / f"{self.run_id}-{name}"
        workspace, temp = folder / "workspace", folder / "temp"
        for made in (workspace, temp, folder / "home"):
            made.mkdir(parents=True)
        event_path = temp / "event.json"
        event_path.write_text(json.dumps(self.event), encoding="utf-8")
        env_base = {
            **base_env(folder / "home"),
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": self.event_name,
            "GITHUB_EVENT_PATH": str(event_path),
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_REPOSITORY": "acme/infra",
            "GITHUB_API_URL": self.api_url,
            "GITHUB_SERVER_URL": "https://github.example.com",
            "GITHUB_SHA": self.sha,
            "GITHUB_REF": self.ref,
            "GITHUB_RUN_ID": str(self.run_id),
            "GITHUB_JOB": name,
            "RUNNER_OS": "Linux",
            "RUNNER_TEMP": str(temp),
        }
        job = Job(name, "success")
        failed = False
        for index, step in enumerate(spec["steps"]):
            status = {"success": not failed, "failure": failed, "always": True, "cancelled": False}
            step_id = step.get("id", f"__step{index}")
            if not gh_condition(step.get("if", "success()"), context, status):
                context["steps"][step_id] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                continue
            env = {**env_base}
            for scope in (self.workflow, spec, step):
                env.update({k: gh_render(v, context) for k, v in (scope.get("env") or {}).items()})
            if "uses" in step:
                ok, outputs, log, summary = self._action(step, context, workspace), dict[str, str](), "", ""
            else:
                ok, outputs, log, summary = self._run_step(spec, step, index, env, workspace, temp, job)
            job.log += f"--- step {step.get('name') or step.get('uses') or step.get('run')}\n{log}"
            job.summary += summary
            outcome = "success" if ok else "failure"
            conclusion = "success" if ok or step.get("continue-on-error") else "failure"
            context["steps"][step_id] = {"outputs": outputs, "outcome": outcome, "conclusion": conclusion}
            failed = failed or conclusion == "failure"
        job.result = "failure" if failed else "success"
        job.outputs = {k: gh_render(v, context) for k, v in (spec.get("outputs") or {}).items()}
        return job

    def _run_step(
        self,
        spec: Mapping[str, Any],
        step: Mapping[str, Any],
        index: int,
        env: dict[str, str],
        workspace: Path,
        temp: Path,
        job: Job,
    ) -> tuple[bool, dict[str, str], str, str]:
        script = str(step["run"])
        if step.get("name") == "install reconciler":
            documented_install(script.strip())
            return True, {}, "(install skipped: the venv's reconciler is on PATH)\n", ""
        output_file, summary_file = temp / f"output-{index}", temp / f"summary-{index}"
        output_file.touch()
        summary_file.touch()
        env.update({"GITHUB_OUTPUT": str(output_file), "GITHUB_STEP_SUMMARY": str(summary_file)})
        env["GITHUB_ENV"] = str(temp / f"env-{index}")
        shell = (
            step.get("shell")
            or (spec.get("defaults") or {}).get("run", {}).get("shell")
            or (self.workflow.get("defaults") or {}).get("run", {}).get("shell")
        )
        shells = {
            "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail"],
            None: ["bash", "-e"],
            "sh": ["sh", "-e"],
        }
        assert shell in shells, f"shell {shell!r} is not modelled"
        script_file = temp / f"step-{index}.sh"
        script_file.write_text(script, encoding="utf-8")
        cwd = workspace / step.get("working-directory", ".")
        code, log = run_shell([*shells[shell], str(script_file)], cwd, env)
        job.ran.append(script.strip())
        outputs = _github_outputs(output_file.read_text(encoding="utf-8"))
        return code == 0, outputs, log + f"(exit {code})\n", summary_file.read_text(encoding="utf-8")

    def _action(self, step: Mapping[str, Any], context: Mapping[str, Any], workspace: Path) -> bool:
        uses = str(step["uses"])
        given = {k: gh_render(v, context) for k, v in (step.get("with") or {}).items()}
        if uses == "actions/checkout@v4":
            shutil.copytree(self.repo, workspace, dirs_exist_ok=True)
            return True
        if uses == "actions/setup-python@v5":
            assert given.get("python-version") == "3.11", given  # the venv that runs these tests is 3.11
            return True
        if uses == "actions/upload-artifact@v4":
            name = given["name"]
            assert name not in self.artifacts, f"artifact {name} uploaded twice in one run (v4 refuses)"
            target = self.folder / f"{self.run_id}-artifact-{name}"
            target.mkdir()
            patterns = [p.strip() for p in given["path"].splitlines() if p.strip()]
            if not copy_files(workspace, patterns, target):
                return given.get("if-no-files-found", "warn") != "error"
            self.artifacts[name] = target
            return True
        if uses == "actions/download-artifact@v4":
            source = self.artifacts.get(given["name"])
            if source is None:
                return False
            shutil.copytree(source, workspace / given.get("path", "."), dirs_exist_ok=True)
            return True
        raise AssertionError(f"the test does not model the action {uses}")


def _github_outputs(text: str) -> dict[str, str]:
    """``name=value`` lines and ``name<<DELIMITER`` blocks, as the runner reads $GITHUB_OUTPUT."""
    outputs: dict[str, str] = {}
    lines = text.splitlines()
    while lines:
        line = lines.pop(0)
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            value = []
            while lines and lines[0] != delimiter:
                value.append(lines.pop(0))
            lines.pop(0)
            outputs[name] = "\n".join(value)
        elif "=" in line:
            name, value_text = line.split("=", 1)
            outputs[name] = value_text
    return outputs


# --------------------------------------------------------------------------------------------------
# The GitLab CI runner model (docker executor, bash).

_GL_TOKEN = re.compile(
    r"\s*(?:(?P<var>\$[A-Za-z_][A-Za-z0-9_]*)|(?P<str>\"[^\"]*\"|'[^']*')|(?P<op>==|!=|&&|\|\||\(|\))|(?P<null>null))"
)
_GL_RESERVED = {"stages", "default", "variables", "workflow", "include", "image", "services", "cache"}
_GL_RESERVED |= {"before_script", "after_script"}


class _GitLabExpression:
    """GitLab's ``rules:if``: ``$VAR``, ``"string"``, ``null``, ``==``, ``!=``, ``&&``, ``||``, ``( )``;
    a bare ``$VAR`` is true when the variable is set and not empty."""

    def __init__(self, text: str, variables: Mapping[str, str]) -> None:
        self.text, self.variables, self.tokens, self.at = text, variables, [], 0
        at, text = 0, text.strip()
        while at < len(text):
            match = _GL_TOKEN.match(text, at)
            assert match and match.end() > at, f"unsupported rules:if: {text!r}"
            kind = match.lastgroup
            assert kind is not None
            self.tokens.append((kind, match.group(kind)))
            at = match.end()

    def value(self) -> bool:
        result = self._or()
        assert self.at == len(self.tokens), f"unsupported rules:if: {self.text!r}"
        return result

    def _take(self) -> tuple[str, str]:
        assert self.at < len(self.tokens), f"unexpected end of rules:if: {self.text!r}"
        self.at += 1
        return self.tokens[self.at - 1]

    def _peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def _operand(self) -> str | None:
        kind, token = self._take()
        if kind == "var":
            return self.variables.get(token[1:]) or None
        if kind == "str":
            return token[1:-1]
        assert kind == "null", f"unsupported rules:if: {self.text!r}"
        return None

    def _comparison(self) -> bool:
        if self._peek() == "(":
            self._take()
            inner = self._or()
            assert self._take()[1] == ")", self.text
            return inner
        left = self._operand()
        if self._peek() in ("==", "!="):
            op = self._take()[1]
            return (left == self._operand()) == (op == "==")
        return left is not None

    def _and(self) -> bool:
        result = self._comparison()
        while self._peek() == "&&":
            self._take()
            result = self._comparison() and result
        return result

    def _or(self) -> bool:
        result = self._and()
        while self._peek() == "||":
            self._take()
            result = self._and() or result
        return result


def gl_expression(text: str, variables: Mapping[str, str]) -> bool:
    return _GitLabExpression(text, variables).value()


def gl_rules(rules: Sequence[Mapping[str, Any]], variables: Mapping[str, str]) -> str | None:
    """The ``when`` of the first matching rule (``on_success`` unless said), None when none matches."""
    for rule in rules:
        assert set(rule) <= {"if", "when"}, f"rule keys not modelled: {sorted(rule)}"
        if "if" not in rule or gl_expression(rule["if"], variables):
            return str(rule.get("when", "on_success"))
    return None


def gl_pipeline_jobs(config: Mapping[str, Any], variables: Mapping[str, str]) -> dict[str, str] | None:
    """Which jobs a pipeline gets (name -> when), or None when ``workflow: rules`` creates no pipeline."""
    workflow_rules = (config.get("workflow") or {}).get("rules")
    if workflow_rules is not None and gl_rules(workflow_rules, variables) in (None, "never"):
        return None
    jobs = {}
    for name, spec in config.items():
        if name in _GL_RESERVED or name.startswith("."):
            continue
        when = gl_rules(spec["rules"], variables) if "rules" in spec else str(spec.get("when", "on_success"))
        if when not in (None, "never"):
            jobs[name] = when
    return jobs


@dataclass
class GitLabPipeline:
    config: dict[str, Any]
    variables: dict[str, str]  # predefined for this pipeline + the project's CI/CD variables
    repo: Path
    folder: Path
    pipeline_id: int
    jobs: dict[str, Job] = field(default_factory=dict)
    artifacts: dict[str, Path] = field(default_factory=dict)

    @property
    def planned(self) -> dict[str, str] | None:
        return gl_pipeline_jobs(self.config, self.variables)

    def run(self) -> dict[str, Job]:
        """Run the jobs stage by stage; a manual job waits (skipped) until `play`."""
        planned = self.planned
        assert planned is not None, "no pipeline for these variables"
        failed = False
        for stage in self.config["stages"]:
            for name, when in planned.items():
                if self.config[name].get("stage", "test") == stage:
                    self.jobs[name] = Job(name, "skipped") if failed or when == "manual" else self._job(name, stage)
            failed = failed or any(j.result == "failure" for j in self.jobs.values())
        return self.jobs

    def play(self, name: str) -> Job:
        """The play button of a manual job (its earlier stages passed)."""
        assert (self.planned or {}).get(name) == "manual", f"{name} is not a manual job of this pipeline"
        assert all(j.result != "failure" for j in self.jobs.values()), "an earlier job failed"
        self.jobs[name] = self._job(name, self.config[name]["stage"])
        return self.jobs[name]

    def _job(self, name: str, stage: str) -> Job:
        spec = self.config[name]
        default = self.config.get("default") or {}
        image = str(spec.get("image", default.get("image", "")))
        folder = self.folder / f"{self.pipeline_id}-{name}"
        workspace, home = folder / "build", folder / "home"
        workspace.mkdir(parents=True)
        home.mkdir()
        shutil.copytree(self.repo, workspace, dirs_exist_ok=True)  # the runner's git clone
        sources = spec["needs"] if "needs" in spec else [j for j in self.jobs if j in self.artifacts]
        for source in sources:
            if source in self.artifacts:
                shutil.copytree(self.artifacts[source], workspace, dirs_exist_ok=True)
        job_id = self.pipeline_id * 100 + len(self.jobs)
        env = {
            **base_env(home),
            **{k: str(v) for k, v in (self.config.get("variables") or {}).items()},
            **{k: str(v) for k, v in (spec.get("variables") or {}).items()},
            **self.variables,
            "CI_JOB_NAME": name,
            "CI_JOB_STAGE": stage,
            "CI_JOB_ID": str(job_id),
            "CI_JOB_URL": f"https://gitlab.example.com/acme/infra/-/jobs/{job_id}",
            "CI_PIPELINE_ID": str(self.pipeline_id),
            "CI_PROJECT_DIR": str(workspace),
        }
        lines = [*spec.get("before_script", default.get("before_script", [])), *spec["script"]]
        job = Job(name, "success")
        body = ""
        for line in lines:
            if line.startswith("pip install"):
                documented_install(line)
                if "git+" in line:  # pip needs git for a git+ URL: the image must have it
                    assert not image.endswith("-slim") and "alpine" not in image, f"{image} has no git"
                line = ": install skipped by the test, the reconciler of the venv is on PATH"
            else:
                job.ran.append(line)
            body += f"echo {shlex.quote('$ ' + line)}\n{line}\n"
        script = (
            "if set -o | grep pipefail > /dev/null; then set -o pipefail; fi; set -o errexit\n"
            "set +o noclobber\n"
            f": | eval {shlex.quote(body)}\n"
            "exit 0\n"
        )
        code, job.log = run_shell(["/bin/bash"], workspace, env, stdin=script)
        job.result = "success" if code == 0 else "failure"
        artifacts = spec.get("artifacts") or {}
        when = artifacts.get("when", "on_success")
        if artifacts.get("paths") and (when == "always" or (when == "on_success") == (code == 0)):
            target = folder / "artifacts"
            target.mkdir()
            if copy_files(workspace, artifacts["paths"], target):
                self.artifacts[name] = target
        return job


# --------------------------------------------------------------------------------------------------
# The world the pipelines run against.


def _run(name: str, workflow: str, parameters: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "reconciler/v1",
        "kind": "WorkflowRun",
        "metadata": {"name": name},
        "spec": {"workflow": workflow, "parameters": dict(parameters)},
    }


NET = _run("net", ECHO, {"name": "${var.env}-net"})
APP = _run(
    "app",
    SECRET,
    {"name": "${var.env}-app", "password": {"type": "SecureString", "valueFrom": {"env": "WEB01_PASSWORD"}}},
)
DNS = _run("dns", READS, {"upstream": "${runs.net.outputs.id}"})
EXTRA = _run("extra", ECHO, {"name": "extra"})
BAD = _run("quota", FAILS, {"name": "bad-quota"})
LATE = _run("late", ECHO, {"name": "late"})
LATER = _run("later", ECHO, {"name": "later"})


@dataclass
class World:
    emulator: Emulator
    forge: fake_forge.Forge
    workspace: str
    folder: Path
    pipeline_file: tuple[Path, str]  # the example, and where it lives in a repository
    counter: int = 0

    def repo(self, runs: Sequence[Mapping[str, Any]]) -> Path:
        """The repository at one commit: the stack, a var file, the scripts and the pipeline."""
        self.counter += 1
        repo = self.folder / f"commit-{self.counter}"
        (repo / "manifests").mkdir(parents=True)
        stack = {
            "apiVersion": "reconciler/v1",
            "kind": "Stack",
            "metadata": {"name": "ci"},
            "spec": {
                "endpoint": {
                    "url": self.emulator.url,
                    "apiVersion": "37.2",
                    "org": "System",
                    "auth": {"username": "admin", "passwordFrom": {"env": "RECONCILER_PASSWORD"}},
                },
                "backend": {
                    "type": "postgres",
                    "dsnFrom": {"env": "RECONCILER_PG_DSN"},
                    "workspace": self.workspace,
                },
                "manifests": ["manifests"],
                "variables": {"env": {"default": "staging"}},
            },
        }
        (repo / "reconciler.yaml").write_text(yaml.safe_dump(stack, sort_keys=False), encoding="utf-8")
        (repo / "manifests" / "runs.yaml").write_text(yaml.safe_dump_all(list(runs), sort_keys=False), encoding="utf-8")
        (repo / "prod.vars.yaml").write_text("env: prod\n", encoding="utf-8")
        shutil.copytree(CI / "scripts", repo / SCRIPTS_IN_REPO)
        source, target = self.pipeline_file
        (repo / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, repo / target)
        return repo

    def secrets(self) -> dict[str, str]:
        return {"VCD_PASSWORD": PASSWORD, "RECONCILER_PG_DSN": PG_DSN, "WEB01_PASSWORD": SECRET_INPUT}

    def cli(self, args: Sequence[str], repo: Path) -> subprocess.CompletedProcess[str]:
        env = {
            **base_env(self.folder),
            "NO_COLOR": "1",
            "RECONCILER_PASSWORD": PASSWORD,
            "RECONCILER_PG_DSN": PG_DSN,
            "WEB01_PASSWORD": SECRET_INPUT,
        }
        return subprocess.run(
            [cli_for_scripts(), *args], cwd=repo, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT
        )

    def started(self) -> list[str]:
        """What the emulator was asked to start, by the ``name`` (or ``upstream``) input."""
        return sorted(str(s["inputs"].get("name") or s["inputs"].get("upstream")) for s in self.emulator.starts())


@pytest.fixture(scope="module")
def pg_dsn() -> str:
    import psycopg

    try:
        psycopg.connect(PG_DSN, connect_timeout=3).close()
    except psycopg.Error as exc:
        if os.environ.get("RECONCILER_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL at {PG_DSN} is required (RECONCILER_REQUIRE_PG=1) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {PG_DSN}: {exc}")
    return PG_DSN


@pytest.fixture
def world_parts(pg_dsn: str, tmp_path: Path) -> Iterator[tuple[Emulator, fake_forge.Forge, str]]:
    import psycopg
    from psycopg import sql

    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(yaml.safe_dump(CATALOG, sort_keys=False), encoding="utf-8")
    emulator = start_emulator(catalog)
    workspace = f"test-ci-{uuid.uuid4().hex[:10]}"  # the stack file cannot name a schema: the default one
    try:
        with fake_forge.serve() as forge:
            yield emulator, forge, workspace
    finally:
        stop(emulator.process)
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            tables = conn.execute(
                "SELECT table_schema, table_name FROM information_schema.columns"
                " WHERE column_name = 'workspace' AND table_schema = 'reconciler'"
            ).fetchall()
            for table in tables:
                conn.execute(
                    sql.SQL("DELETE FROM {}.{} WHERE workspace = %s").format(*map(sql.Identifier, table)), [workspace]
                )


def _all_text(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in folder.rglob("*") if p.is_file())


def _summary_event(apply_jsonl: Path) -> dict[str, Any]:
    events = [json.loads(line) for line in apply_jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert events and events[-1]["type"] == "summary", events
    return dict(events[-1])


# --------------------------------------------------------------------------------------------------
# GitHub Actions


def test_github_paths_filter_covers_the_stack_and_its_var_files() -> None:
    on = _github_on(yaml.safe_load(GITHUB_YML.read_text(encoding="utf-8")))
    for event in ("pull_request", "push"):
        patterns = on[event]["paths"]
        covered = ["reconciler.yaml", "manifests/runs.yaml", "manifests/net/a.yaml", "prod.vars.yaml"]
        covered += ["envs/eu/prod.vars.yaml", f"{SCRIPTS_IN_REPO}/plan.sh", ".github/workflows/reconciler.yml"]
        for path in covered:
            assert any(gh_path_matches(p, path) for p in patterns), f"{event}: {path} is not in paths {patterns}"
        for path in ("README.md", "src/app.py"):
            assert not any(gh_path_matches(p, path) for p in patterns), f"{event}: {path} should not trigger"
    assert on["push"]["branches"] == ["main"]


def _github_on(workflow: Mapping[Any, Any]) -> dict[str, Any]:
    return dict(workflow.get("on") or workflow[True])  # YAML 1.1 reads a bare `on` key as true


def test_github_actions_pipeline(world_parts: tuple[Emulator, fake_forge.Forge, str], tmp_path: Path) -> None:
    emulator, forge, workspace = world_parts
    world = World(emulator, forge, workspace, tmp_path, (GITHUB_YML, ".github/workflows/reconciler.yml"))
    workflow = yaml.safe_load(GITHUB_YML.read_text(encoding="utf-8"))
    runs = iter(range(1, 100))

    def github_run(event_name: str, repo: Path, sha: str, pr_head: str | None = None) -> GitHubRun:
        if event_name == "pull_request":
            event: dict[str, Any] = {"number": 7, "pull_request": {"number": 7, "head": {"sha": pr_head}}}
            ref = "refs/pull/7/merge"
        else:
            event, ref = {"ref": "refs/heads/main", "after": sha}, "refs/heads/main"
        return GitHubRun(
            workflow, event_name, event, sha, ref, repo, tmp_path, forge.github_api, world.secrets(), next(runs)
        )

    thread = ("github", "acme/infra", 7)
    for i in range(104):  # the plan comment lands on the second page of 100
        forge.add(*thread, body=f"looks good {i}", author="reviewer")
    forge.add(*thread, body=f"> {MARKER}\n> quoted by a reviewer: not the plan comment", author="reviewer")

    # 1. A pull request with changes: one plan comment.
    first = github_run("pull_request", world.repo([NET, APP]), "m" * 40, pr_head="a" * 40).run()
    assert first["plan"].result == "success", first["plan"]
    assert first["plan"].outputs == {"changes": "true"}
    assert first["apply"].result == "skipped"
    assert "bash ci/reconciler/comment.sh plan.md" in first["plan"].ran
    ours = [c for c in forge.comments(*thread) if c.body.startswith(MARKER + "\n")]
    assert len(ours) == 1, [c.body[:80] for c in forge.comments(*thread)]
    comment = ours[0]
    assert "`net`" in comment.body and "`app`" in comment.body and "a" * 12 in comment.body
    assert "**2** to start" in comment.body
    assert "### reconciler plan" in first["plan"].summary
    assert world.started() == []

    # 2. A second push: the same comment, edited.
    second = github_run("pull_request", world.repo([NET, APP, DNS]), "n" * 40, pr_head="b" * 40).run()
    assert second["plan"].result == "success", second["plan"]
    ours = [c for c in forge.comments(*thread) if c.body.startswith(MARKER + "\n")]
    assert [c.id for c in ours] == [comment.id] and ours[0].edits == 1
    assert "`dns`" in ours[0].body and "b" * 12 in ours[0].body and "a" * 12 not in ours[0].body
    assert len(forge.comments(*thread)) == 106
    assert [r.method for r in forge.requests if r.method != "GET"] == ["POST", "PATCH"]

    # 2b. A push that breaks validate: the comment says there is no plan (never the old plan).
    broken_dns = _run("dns", READS, {"upstream": "${runs.nope.outputs.id}"})
    broken = github_run("pull_request", world.repo([NET, APP, broken_dns]), "p" * 40, pr_head="7" * 40).run()
    assert broken["plan"].result == "failure" and "unknown" in broken["plan"].log.lower(), broken["plan"]
    ours = [c for c in forge.comments(*thread) if c.body.startswith(MARKER + "\n")]
    assert [c.id for c in ours] == [comment.id] and "**No plan**" in ours[0].body and "`dns`" not in ours[0].body
    assert "7" * 12 in ours[0].body

    # 3. The merge: plan on main, then apply of exactly that saved plan; published.
    second = github_run("pull_request", world.repo([NET, APP, DNS]), "q" * 40, pr_head="b" * 40).run()
    assert second["plan"].result == "success", second["plan"]
    merged = world.repo([NET, APP, DNS])
    forge.merge("github", "acme/infra", 7, "c" * 40)
    merge = github_run("push", merged, "c" * 40)
    jobs = merge.run()
    assert jobs["plan"].result == "success", jobs["plan"]
    assert "bash ci/reconciler/comment.sh plan.md" not in jobs["plan"].ran  # no pull request here
    assert "**Reviewed**: this plan does what the plan last commented on pull request #7" in jobs["plan"].summary
    assert jobs["apply"].result == "success", jobs["apply"]
    started = world.started()
    assert len(started) == 3 and "prod-net" in started and "prod-app" in started, started
    summary = jobs["apply"].summary
    assert "Apply complete" in summary and "The plan applied" in summary and '+ run "dns" {' in summary
    assert '"shout": "PROD-NET"' in summary  # the outputs, made from the var file's value
    published = merge.artifacts["reconciler-apply"]
    assert _summary_event(published / "apply.jsonl")["ok"] is True
    assert set(json.loads((published / "outputs.json").read_text())) == {"net", "app", "dns"}
    assert "dns" in (published / "applied-plan.txt").read_text()
    assert world.cli(["plan", "--detailed-exitcode", "--var-file", "prod.vars.yaml"], merged).returncode == 0

    # 4. The state moved between the plan and the apply: the saved plan is refused, nothing starts.
    moved = world.repo([NET, APP, DNS, EXTRA])
    stale = github_run("push", moved, "d" * 40)

    def apply_elsewhere_first(job: str) -> None:
        if job == "apply":
            done = world.cli(["apply", "--auto-approve", "--var-file", "prod.vars.yaml"], moved)
            assert done.returncode == 0, done.stdout + done.stderr

    jobs = stale.run(before_job=apply_elsewhere_first)
    assert jobs["plan"].outputs == {"changes": "true"}
    assert "**Not reviewed**: no merged pull request for commit `dddddddddddd`" in jobs["plan"].summary
    assert jobs["apply"].result == "failure", jobs["apply"]
    assert "is stale" in jobs["apply"].log and "Apply refused or failed" in jobs["apply"].summary
    assert world.started().count("extra") == 1

    # 5. A run that fails: the job fails, and what happened is still published.
    failing = github_run("push", world.repo([NET, APP, DNS, EXTRA, BAD]), "e" * 40)
    jobs = failing.run()
    assert jobs["plan"].result == "success", jobs["plan"]
    assert jobs["apply"].result == "failure", jobs["apply"]
    assert "quota exceeded" in jobs["apply"].log
    assert "Apply failed" in jobs["apply"].summary
    published = failing.artifacts["reconciler-apply"]
    assert _summary_event(published / "apply.jsonl")["ok"] is False
    assert "run_failed" in (published / "apply.jsonl").read_text()

    # 6. RECONCILER_REQUIRE_REVIEWED_PLAN=true and main moved after the review: nothing is applied.
    strict = {**workflow, "env": {**workflow["env"], "RECONCILER_REQUIRE_REVIEWED_PLAN": "true"}}
    reviewed = github_run("pull_request", world.repo([NET, APP, DNS, EXTRA, LATE]), "o" * 40, pr_head="9" * 40)
    reviewed.workflow = strict
    assert reviewed.run()["plan"].result == "success"
    before = world.started()
    forge.merge("github", "acme/infra", 7, "f" * 40)
    moved_on = github_run("push", world.repo([NET, APP, DNS, EXTRA, LATE, LATER]), "f" * 40)
    moved_on.workflow = strict
    jobs = moved_on.run()
    assert jobs["plan"].result == "failure" and jobs["apply"].result == "skipped", jobs["plan"]
    assert (
        "**Not the reviewed plan**: it differs from the plan last commented on pull request #7" in jobs["plan"].summary
    )
    assert world.started() == before

    everything = [c.body for c in forge.comments(*thread)] + [_all_text(tmp_path)]
    for run in (first, second, jobs):
        everything += [j.log + j.summary for j in run.values()]
    assert not [t for t in everything if SECRET_INPUT in t], "the secret input leaked"


# --------------------------------------------------------------------------------------------------
# GitLab CI


def _gitlab_variables(
    source: str, branch: str | None, mr_iid: int | None, sha: str, open_mrs: str = ""
) -> dict[str, str]:
    variables = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PIPELINE_SOURCE": source,
        "CI_DEFAULT_BRANCH": "main",
        "CI_COMMIT_SHA": sha,
        "CI_COMMIT_SHORT_SHA": sha[:8],
        "CI_PROJECT_ID": "42",
        "CI_PROJECT_PATH": "acme/infra",
        "CI_SERVER_URL": "https://gitlab.example.com",
    }
    if branch is not None:
        variables.update({"CI_COMMIT_BRANCH": branch, "CI_COMMIT_REF_NAME": branch})
    if open_mrs:
        variables["CI_OPEN_MERGE_REQUESTS"] = open_mrs
    if mr_iid is not None:
        variables.update({"CI_MERGE_REQUEST_IID": str(mr_iid), "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature"})
    return variables


def test_gitlab_creates_one_pipeline_per_push() -> None:
    config = yaml.safe_load(GITLAB_YML.read_text(encoding="utf-8"))
    sha = "f" * 40
    merge_request = gl_pipeline_jobs(config, _gitlab_variables("merge_request_event", None, 3, sha))
    assert merge_request == {"validate": "on_success", "plan": "on_success"}
    # the same push also makes a branch pipeline event: workflow rules drop it (no duplicate)
    assert gl_pipeline_jobs(config, _gitlab_variables("push", "feature", None, sha, open_mrs="acme/infra!3")) is None
    assert gl_pipeline_jobs(config, _gitlab_variables("push", "feature", None, sha)) is None
    main = gl_pipeline_jobs(config, _gitlab_variables("push", "main", None, sha))
    assert main == {"validate": "on_success", "plan": "on_success", "apply": "manual"}


def test_gitlab_ci_pipeline(world_parts: tuple[Emulator, fake_forge.Forge, str], tmp_path: Path) -> None:
    emulator, forge, workspace = world_parts
    world = World(emulator, forge, workspace, tmp_path, (GITLAB_YML, ".gitlab-ci.yml"))
    config = yaml.safe_load(GITLAB_YML.read_text(encoding="utf-8"))
    pipelines = iter(range(1, 100))
    project = {
        "RECONCILER_PASSWORD": PASSWORD,
        "RECONCILER_PG_DSN": PG_DSN,
        "WEB01_PASSWORD": SECRET_INPUT,
        "RECONCILER_GITLAB_TOKEN": fake_forge.GITLAB_TOKEN,
        "CI_API_V4_URL": forge.gitlab_api,
    }

    def pipeline(repo: Path, sha: str, merge_request: bool) -> GitLabPipeline:
        if merge_request:
            variables = _gitlab_variables("merge_request_event", None, 3, sha)
        else:
            variables = _gitlab_variables("push", "main", None, sha)
        return GitLabPipeline(config, {**variables, **project}, repo, tmp_path, next(pipelines))

    thread = ("gitlab", "42", 3)
    for i in range(100):
        forge.add(*thread, body=f"looks good {i}", author="reviewer")

    # 1. A merge request with changes: one note.
    first = pipeline(world.repo([NET, APP]), "a" * 40, merge_request=True).run()
    assert set(first) == {"validate", "plan"} and first["validate"].result == "success", first["validate"]
    assert first["plan"].result == "success", first["plan"]
    ours = [c for c in forge.comments(*thread) if c.body.startswith(MARKER + "\n")]
    assert len(ours) == 1
    note = ours[0]
    assert "`net`" in note.body and "**2** to start" in note.body and "a" * 12 in note.body

    # 2. A second push: the same note, edited.
    second = pipeline(world.repo([NET, APP, DNS]), "b" * 40, merge_request=True).run()
    assert second["plan"].result == "success", second["plan"]
    ours = [c for c in forge.comments(*thread) if c.body.startswith(MARKER + "\n")]
    assert [c.id for c in ours] == [note.id] and ours[0].edits == 1 and "`dns`" in ours[0].body
    assert [r.method for r in forge.requests if r.method != "GET"] == ["POST", "PUT"]

    # 3. The merge: the main pipeline plans; the manual apply applies exactly that plan.
    merged = world.repo([NET, APP, DNS])
    forge.merge("gitlab", "42", 3, "c" * 40)
    main = pipeline(merged, "c" * 40, merge_request=False)
    jobs = main.run()
    assert jobs["plan"].result == "success" and jobs["apply"].result == "skipped"  # manual: not played yet
    verdict = "**Reviewed**: this plan does what the plan last commented on merge request !3"
    assert verdict in jobs["plan"].log and verdict in (main.artifacts["plan"] / "plan.md").read_text()
    assert world.started() == []
    apply = main.play("apply")
    assert apply.result == "success", apply
    assert '+ run "dns" {' in apply.log  # the plan it applies, printed first
    started = world.started()
    assert len(started) == 3 and "prod-net" in started, started
    published = main.artifacts["apply"]
    assert _summary_event(published / "apply.jsonl")["ok"] is True
    assert json.loads((published / "outputs.json").read_text())["net"]["shout"] == "PROD-NET"
    assert "Apply complete" in (published / "apply-summary.md").read_text()
    assert len([c for c in forge.comments(*thread) if c.body.startswith(MARKER)]) == 1
    assert world.cli(["plan", "--detailed-exitcode", "--var-file", "prod.vars.yaml"], merged).returncode == 0

    # 3b. Main again with nothing to do: the manual apply applies the empty plan, and says so.
    again = pipeline(world.repo([NET, APP, DNS]), "e" * 40, merge_request=False)
    assert again.run()["plan"].result == "success"
    assert again.play("apply").result == "success", again.jobs["apply"]
    assert "Apply complete**: nothing to do" in (again.artifacts["apply"] / "apply-summary.md").read_text()
    assert len(world.started()) == 3

    # 4. A run that fails: the job fails; its artifacts are kept all the same (when: always).
    failing = pipeline(world.repo([NET, APP, DNS, BAD]), "d" * 40, merge_request=False)
    jobs = failing.run()
    assert jobs["plan"].result == "success", jobs["plan"]
    assert "**Not reviewed**: no merged pull request for commit `dddddddddddd`" in jobs["plan"].log
    failed = failing.play("apply")
    assert failed.result == "failure", failed
    assert "quota exceeded" in failed.log
    published = failing.artifacts["apply"]
    assert _summary_event(published / "apply.jsonl")["ok"] is False
    assert "Apply failed" in (published / "apply-summary.md").read_text()

    everything = [c.body for c in forge.comments(*thread)] + [_all_text(tmp_path)]
    for run in (first, second, jobs):
        everything += [j.log for j in run.values()]
    assert not [t for t in everything if SECRET_INPUT in t], "the secret input leaked"
