"""`obsstack init --probe URL` / `--probe-otlp`: read what a running service exposes and write its entry.

PURE: `observed` (the metric families seen), `exposition` (Prometheus text -> families), `otlp` (OTLP export
requests -> families, named as the collector's Prometheus remote write names them), `infer` (families ->
convention, names, labels, buckets, thresholds), `entry` (inference -> the commented stack.yaml entry).
I/O at the edge: `scrape` (one bounded HTTP GET) and `receiver` (a brief OTLP gRPC/HTTP listener).
"""
