"""Benchmarks (``make bench``): results go to bench/results/ and the README tables."""
