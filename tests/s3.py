"""A real S3-compatible server for tests: moto_server (pip "moto[s3]"), in memory, on a free port."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import httpx

from tests.conftest import free_port

KEY, SECRET = "benchhub-test", "benchhub-test-secret"


@contextmanager
def s3_server(log_dir: Path, auth: bool = False) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """(endpoint URL, process): the process can be paused (SIGSTOP) to make S3 stop answering.

    ``auth``: moto checks signatures and keys (IAM); the first 4 calls are free: the readiness probe and ``make_user``.
    """
    binary = shutil.which("moto_server") or str(
        Path(__file__).resolve().parents[1] / ".venv" / "bin" / "moto_server"
    )
    port = free_port()
    log = (log_dir / "moto.log").open("w")
    env = {**os.environ, **({"INITIAL_NO_AUTH_ACTION_COUNT": "4"} if auth else {})}
    proc = subprocess.Popen(
        [binary, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"moto_server did not start; see {log_dir / 'moto.log'}") from None
                time.sleep(0.1)
        yield url, proc
    finally:
        proc.kill()
        proc.wait(10)
        log.close()


def make_bucket(endpoint: str, name: str) -> None:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id=KEY, aws_secret_access_key=SECRET)  # fmt: skip
    client.create_bucket(Bucket=name)


def make_user_and_bucket(endpoint: str, bucket: str) -> tuple[str, str]:
    """``make_user``, and ``bucket`` made with that user's key."""
    key_id, secret = make_user(endpoint)
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key_id,
                 aws_secret_access_key=secret).create_bucket(Bucket=bucket)  # fmt: skip
    return key_id, secret


def make_user(endpoint: str) -> tuple[str, str]:
    """An IAM user allowed everything on a server started with ``auth``: (key id, secret)."""
    iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=KEY,
                       aws_secret_access_key=SECRET)  # fmt: skip
    iam.create_user(UserName="benchhub")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName="benchhub", PolicyName="all", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="benchhub")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]
