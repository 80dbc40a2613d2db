"""Parts of the waiting benchmarks (bench_waiting.py, bench_connections.py), split by concern."""
