"""Make the workbook's helper modules (solutions/softmax/*.py) importable."""
import os
import sys

import matplotlib

matplotlib.use("Agg")  # no display in CI

HELPERS = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir,
                       "solutions", "softmax")
sys.path.insert(0, os.path.abspath(HELPERS))
