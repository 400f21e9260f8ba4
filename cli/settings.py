"""bhubctl's settings: where central and the agent are, from BENCHHUB_* variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from central.settings import benchhub_home


class CliSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BENCHHUB_", extra="ignore")

    central_url: str = "http://127.0.0.1:8090"
    agent_url: str = "http://127.0.0.1:9465"
    home: Path = Field(default_factory=benchhub_home)
    request_timeout: float = Field(default=10.0, gt=0)
