"""bhubctl: run benchmarks, manage the local stack, talk to central."""
