"""Offline voice-command assistant for smartwatches and home appliances."""

__version__ = "0.1.0"
