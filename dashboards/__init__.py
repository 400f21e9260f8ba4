"""Grafana dashboards and vmalert rules, generated from Python (``python -m dashboards``)."""
