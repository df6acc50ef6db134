"""Per-arch syscall tables (data).  ``generate.py`` regenerates them; ``tracerule.audit.tables`` reads them."""
from pathlib import Path

DIR = Path(__file__).resolve().parent
