"""Carrier API pulls: one asset per configured carrier account, a job and a stopped schedule."""
