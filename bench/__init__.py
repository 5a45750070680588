"""Benchmarks of the sample app's instrumentation (``python -m bench.overhead``)."""
