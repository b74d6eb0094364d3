"""Paths the tests share."""
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = REPO / "tests" / "assignments"   # assignment packages the core has never heard of
TINY = ASSIGNMENTS / "tiny"
