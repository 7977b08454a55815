"""Definitions by domain: each folder holds one concern's assets, checks, sensors and schedules."""
