from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.parser import text_string_to_metric_families

from exporter.exposition import render


class Fixed:
    def collect(self) -> list[Metric]:
        gauge = GaugeMetricFamily("bh_gauge", 'help with "quotes" and \\ backslash', labels=["a", "b"])
        gauge.add_metric(['say "hi"\nbye', "C:\\path"], 1.5, timestamp=1767225600.123)
        gauge.add_metric(["ünïcode ✓", ""], float("inf"))
        counter = CounterMetricFamily("bh_things", "Things.", labels=["kind"])
        counter.add_metric(["x"], 3.0)
        plain = GaugeMetricFamily("bh_plain", "No labels.", value=-0.25)
        return [gauge, counter, plain]


def samples(text: str) -> list[tuple[str, dict[str, str], float, object]]:
    return [
        (s.name, s.labels, s.value, s.timestamp)
        for f in text_string_to_metric_families(text) for s in f.samples
    ]  # fmt: skip


def test_render_says_what_generate_latest_says() -> None:
    registry = CollectorRegistry()
    registry.register(Fixed())
    ours = render(registry.collect()).decode()
    theirs = generate_latest(registry).decode()
    assert samples(ours) == samples(theirs)
    assert "# TYPE bh_things_total counter" in ours and "bh_things_created" not in ours
    assert 'a="say \\"hi\\"\\nbye"' in ours and " 1767225600123\n" in ours
