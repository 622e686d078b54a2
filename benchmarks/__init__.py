"""Speed benchmarks (`make bench`, `make bench-data`, `make profile`): not part of the package."""
