"""Wall time of running the whole reference notebook with nbclient."""
import time

import nbformat
from nbclient import NotebookClient

from autograder.assignments.softmax import ASSIGNMENT

SOURCE = ASSIGNMENT.source


def measure(timeout=600):
    nb = nbformat.read(str(SOURCE), as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(SOURCE.parent)}})
    t0 = time.perf_counter()
    client.execute()
    total = time.perf_counter() - t0
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    return {"seconds": total, "cells": sum(c.cell_type == "code" for c in nb.cells),
            "errors": len(errors)}
