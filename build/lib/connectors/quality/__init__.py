"""great-expectations suites over the raw inputs."""
