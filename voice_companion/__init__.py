"""voice-companion: an offline listener you talk to, out loud, to reflect on your day."""

import os

# NumPy's small matrix products here (echo check, sentence embeddings) gain nothing from
# OpenBLAS's worker threads, whose spinning steals the CPU Whisper needs on a two-core machine:
# one BLAS thread, unless the user set it. It must be set before NumPy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
