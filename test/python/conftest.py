"""Put models/ (GGUF writer) and test/reference/ (NumPy oracle) on sys.path for these tests."""
import os
import sys

_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
for sub in ("models", os.path.join("test", "reference")):
    p = os.path.join(_ROOT, sub)
    if p not in sys.path:
        sys.path.insert(0, p)
