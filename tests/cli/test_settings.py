"""bhubctl's settings from BENCHHUB_* variables (read by hand: cli/settings.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.errors import ConfigError
from cli.settings import DEFAULT_CENTRAL_URL, CliSettings, stack_file


def test_urls_come_from_the_environment_then_the_stack_file_then_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("BENCHHUB_CENTRAL_URL", "BENCHHUB_AGENT_URL", "BENCHHUB_TOKEN", "BENCHHUB_REQUEST_TIMEOUT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("BENCHHUB_HOME", str(tmp_path))
    assert CliSettings().central_url == DEFAULT_CENTRAL_URL and CliSettings().request_timeout == 10.0
    stack_file(tmp_path).write_text(
        json.dumps({"central_url": "http://127.0.0.1:1234", "agent_url": "http://a"})
    )
    assert (CliSettings().central_url, CliSettings().agent_url) == ("http://127.0.0.1:1234", "http://a")
    assert CliSettings().where() == " on central http://127.0.0.1:1234"
    monkeypatch.setenv("BENCHHUB_CENTRAL_URL", "http://elsewhere:8090")
    monkeypatch.setenv("BENCHHUB_TOKEN", "s3cret-token")
    monkeypatch.setenv("BENCHHUB_REQUEST_TIMEOUT", "2.5")
    settings = CliSettings()
    assert (settings.central_url, settings.agent_url, settings.request_timeout) == (
        "http://elsewhere:8090",
        "http://a",
        2.5,
    )
    assert settings.central_token() == "s3cret-token" and "s3cret" not in repr(settings)


@pytest.mark.parametrize("bad", ["0", "-1", "ten", "nan", "inf"])
def test_a_bad_timeout_is_one_line_saying_what_to_give(bad: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCHHUB_REQUEST_TIMEOUT", bad)
    with pytest.raises(
        ConfigError, match=rf"^BENCHHUB_REQUEST_TIMEOUT='{bad}': give a number of seconds above 0"
    ):
        CliSettings()
