"""voice-companion: an offline listener you talk to, out loud, to reflect on your day."""

__version__ = "0.1.0"
