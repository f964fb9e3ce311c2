"""Endpoint settings: the stack's spec.endpoint under the RECONCILER_* overrides, secrets from env only."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import ConfigError
from reconciler.remote.settings import ApiSettings, settings_from

SESSION_ENDPOINT: dict[str, Any] = {
    "url": "https://vcd.example.com/",
    "apiVersion": "37.1",
    "org": "acme",
    "auth": {"username": "deployer", "passwordFrom": {"env": "VCD_PASSWORD"}},
    "verifyTls": True,
    "valueFormat": "vro",
}
TOKEN_ENDPOINT: dict[str, Any] = {
    "url": "https://vcd.example.com",
    "apiVersion": "38.0",
    "org": "System",
    "auth": {"apiTokenFrom": {"env": "VCD_API_TOKEN"}},
}


def test_session_login_settings_from_the_stack() -> None:
    s = settings_from(SESSION_ENDPOINT, {"VCD_PASSWORD": "pw"})
    assert s == ApiSettings(
        url="https://vcd.example.com",
        api_version="37.1",
        org="acme",
        username="deployer",
        password="pw",
        value_format="vro",
    )
    assert s.login_name == "deployer@acme"
    assert not s.is_provider and not s.uses_api_token


def test_api_token_settings_from_the_stack() -> None:
    s = settings_from(TOKEN_ENDPOINT, {"VCD_API_TOKEN": "tok"})
    assert (s.api_token, s.username, s.password, s.is_provider) == ("tok", None, None, True)
    assert s.value_format == "openapi"


def test_environment_overrides_everything() -> None:
    env = {
        "RECONCILER_ENDPOINT": "http://127.0.0.1:8443",
        "RECONCILER_ORG": "System",
        "RECONCILER_USERNAME": "admin",
        "RECONCILER_PASSWORD": "admin",
        "RECONCILER_API_VERSION": "38.0",
        "RECONCILER_INSECURE": "1",
    }
    s = settings_from(SESSION_ENDPOINT, env)
    assert (s.url, s.org, s.username, s.password, s.api_version, s.verify_tls) == (
        "http://127.0.0.1:8443",
        "System",
        "admin",
        "admin",
        "38.0",
        False,
    )


def test_reconciler_api_token_wins_over_a_session_login() -> None:
    s = settings_from(SESSION_ENDPOINT, {"RECONCILER_API_TOKEN": "t", "VCD_PASSWORD": "pw"})
    assert (s.api_token, s.username, s.password) == ("t", None, None)


def test_reconciler_password_alone_completes_the_stack_username() -> None:
    s = settings_from(TOKEN_ENDPOINT | {"auth": {"username": "ops"}}, {"RECONCILER_PASSWORD": "pw"})
    assert (s.username, s.password) == ("ops", "pw")


def test_defaults() -> None:
    s = settings_from(
        {"url": "https://h", "org": "acme", "auth": {"username": "u", "passwordFrom": {"env": "P"}}}, {"P": "x"}
    )
    assert (s.api_version, s.verify_tls, s.value_format, s.request_timeout) == ("37.1", True, "openapi", 30.0)


@pytest.mark.parametrize(
    ("endpoint", "environ", "words"),
    [
        (SESSION_ENDPOINT, {}, "VCD_PASSWORD is not set"),
        (TOKEN_ENDPOINT, {}, "VCD_API_TOKEN is not set"),
        (SESSION_ENDPOINT | {"url": None}, {"VCD_PASSWORD": "p"}, "RECONCILER_ENDPOINT"),
        (SESSION_ENDPOINT | {"url": "vcd.example.com"}, {"VCD_PASSWORD": "p"}, "https://"),
        (SESSION_ENDPOINT | {"org": None}, {"VCD_PASSWORD": "p"}, "RECONCILER_ORG"),
        (SESSION_ENDPOINT | {"auth": {}}, {}, "RECONCILER_USERNAME"),
        (SESSION_ENDPOINT | {"auth": {"username": "u"}}, {}, "passwordFrom"),
        (SESSION_ENDPOINT | {"auth": {"username": "u", "passwordFrom": "pw"}}, {}, "must be a mapping"),
        (SESSION_ENDPOINT | {"auth": {"username": "u", "passwordFrom": {"file": "x"}}}, {}, "{env: NAME}"),
        (SESSION_ENDPOINT | {"valueFormat": "xml"}, {"VCD_PASSWORD": "p"}, "valueFormat"),
        (SESSION_ENDPOINT | {"verifyTls": "no"}, {"VCD_PASSWORD": "p"}, "verifyTls"),
    ],
)
def test_problems_are_config_errors_with_clear_messages(
    endpoint: dict[str, Any], environ: dict[str, str], words: str
) -> None:
    with pytest.raises(ConfigError) as info:
        settings_from(endpoint, environ)
    assert words in str(info.value)


def test_repr_never_shows_secrets() -> None:
    session = settings_from(SESSION_ENDPOINT, {"VCD_PASSWORD": "hunter2-secret"})
    token = settings_from(TOKEN_ENDPOINT, {"VCD_API_TOKEN": "tok-secret-123"})
    assert "hunter2-secret" not in repr(session) and "hunter2-secret" not in str(session)
    assert "tok-secret-123" not in repr(token)


@pytest.mark.parametrize(
    ("stack_value", "environ", "seconds"),
    [
        (None, {}, 300.0),  # the default: 5m
        ("90s", {}, 90.0),
        ("1h", {"RECONCILER_GIVE_UP_AFTER": "3s"}, 3.0),  # the environment wins
        (None, {"RECONCILER_GIVE_UP_AFTER": "45"}, 45.0),  # plain seconds too
    ],
)
def test_give_up_after_from_the_stack_or_the_environment(
    stack_value: str | None, environ: dict[str, str], seconds: float
) -> None:
    endpoint = SESSION_ENDPOINT | ({"giveUpAfter": stack_value} if stack_value else {})
    assert settings_from(endpoint, {"VCD_PASSWORD": "pw", **environ}).give_up_after == seconds


@pytest.mark.parametrize("value", ["0s", "soon", "-3"])
def test_a_bad_give_up_time_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="giveUpAfter or RECONCILER_GIVE_UP_AFTER"):
        settings_from(SESSION_ENDPOINT, {"VCD_PASSWORD": "pw", "RECONCILER_GIVE_UP_AFTER": value})


@pytest.mark.parametrize(
    ("stack_value", "seconds"),
    [(None, 30.0), ("45s", 45.0), ("2m", 120.0), (3, 3.0), (0.5, 0.5)],
)
def test_request_timeout_is_a_duration_or_seconds(stack_value: str | float | None, seconds: float) -> None:
    endpoint = SESSION_ENDPOINT | ({"requestTimeout": stack_value} if stack_value is not None else {})
    assert settings_from(endpoint, {"VCD_PASSWORD": "pw"}).request_timeout == seconds


@pytest.mark.parametrize("value", ["0s", "soon", -3, True])
def test_a_bad_request_timeout_is_a_config_error(value: object) -> None:
    with pytest.raises(ConfigError, match=r"spec\.endpoint\.requestTimeout must be a positive duration"):
        settings_from(SESSION_ENDPOINT | {"requestTimeout": value}, {"VCD_PASSWORD": "pw"})
