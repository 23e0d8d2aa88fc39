"""Benchmarks: throughput and memory, printed as tables with the machine noted."""
