"""make bench-backup: back up and restore an organization holding 1,000,000 samples.

1,000 series x 1,000 samples of org "bench" in a real VictoriaMetrics, a real S3 server
(moto_server); the backup is streamed (native export -> S3 multipart) and the restore streamed
back (S3 -> /api/v1/import/native, after the checksum pass). Reports seconds, samples/s, MB/s
and the peak RSS growth of the process doing it (memory must stay flat whatever the size).
"""

from __future__ import annotations

import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

from central import backup, db
from central.models import Organization
from tests.dashboards.conftest import load
from tests.s3 import KEY, SECRET, make_bucket, s3_server
from tests.servers import victoria_metrics

SERIES, SAMPLES = 1_000, 1_000


class PeakRss:
    """Peak growth of this process's RSS (sampled every 10 ms) while the block runs, in MiB."""

    def __enter__(self) -> PeakRss:
        self._proc = psutil.Process()
        self._base = self._proc.memory_info().rss
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, (self._proc.memory_info().rss - self._base) / 2**20)

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        (tmp / "a").mkdir()
        (tmp / "b").mkdir()
        with (
            s3_server(tmp) as (endpoint, _),
            victoria_metrics(tmp / "a") as vm,
            victoria_metrics(tmp / "b") as fresh,
        ):
            make_bucket(endpoint, "bench")
            start = int(time.time()) - SAMPLES * 10
            rng = random.Random(1)  # values like a real gauge: they do not compress to nothing
            print(f"loading {SERIES * SAMPLES:,} samples ...", file=sys.stderr, flush=True)
            for first in range(0, SERIES, 100):
                lines = [f'bench_metric{{org="bench",series="{s}"}} {rng.gauss(100, 15):.6g} {(start + i * 10) * 1000}\n'
                         for s in range(first, first + 100) for i in range(SAMPLES)]  # fmt: skip
                load(vm, lines)
            engine = db.make_engine(f"sqlite:///{tmp / 'c.db'}")
            db.upgrade(engine)
            target = backup.Target(
                "bench", "bench", endpoint_url=endpoint, access_key_id=KEY, secret_access_key=SECRET
            )
            with db.session_factory(engine)() as session:
                org = Organization(name="bench")
                session.add(org)
                session.commit()
                with PeakRss() as backup_rss:
                    t0 = time.perf_counter()
                    manifest = backup.backup_org(session, org, target, vm)
                    backup_s = time.perf_counter() - t0
                size = sum(o.bytes for o in manifest.objects)
                with PeakRss() as restore_rss:
                    t0 = time.perf_counter()
                    backup.restore_org(session, org, target, manifest, fresh)
                    restore_s = time.perf_counter() - t0
            count = httpx.get(f"{fresh}/api/v1/query", params={"query": "count_over_time(bench_metric[100d])",
                                                               "time": start + SAMPLES * 10}).json()["data"]["result"]  # fmt: skip
            restored = sum(int(float(r["value"][1])) for r in count)
            engine.dispose()
    samples = SERIES * SAMPLES
    print(
        f"{samples:,} samples in {SERIES:,} series; backup objects {size / 2**20:.1f} MiB; {restored:,} restored"
    )
    print(f"{'step':10} {'seconds':>8} {'samples/s':>12} {'MB/s':>8} {'peak RSS growth MiB':>20}")
    for step, secs, rss in (("backup", backup_s, backup_rss), ("restore", restore_s, restore_rss)):
        print(f"{step:10} {secs:8.2f} {samples / secs:12,.0f} {size / secs / 1e6:8.1f} {rss.peak:20.1f}")


if __name__ == "__main__":
    main()
