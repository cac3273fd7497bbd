"""Venture commune engine: compile, chains, deployment, typed contract clients and the ``vc`` CLI."""

__version__ = "0.1.0"
