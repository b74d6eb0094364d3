"""The grader runs the definitions a solution depends on (issue 11), and says why
when a solution needs a name it will not have."""
from autograder.submissions.definitions import is_constant, plan, uses
import ast


def run(prelude, solutions):
    ns = {}
    for _, src in prelude:
        exec(compile(src, "<prelude>", "exec"), ns)
    for src in solutions:
        exec(compile(src, "<solution>", "exec"), ns)
    return ns


SOFTMAX = ("def softmax(x):\n    e = np.exp(x - x.max(-1, keepdims=True))\n"
           "    return _normalise(e)\n")


def test_helper_in_a_new_cell_and_a_constant_in_the_import_cell_are_run():
    cands = [("#2", "import numpy as np\nimport matplotlib.pyplot as plt\nEPS = 1e-7\n"),
             ("#4", "def _normalise(e):\n    return e / (e.sum(-1, keepdims=True) + 0 * EPS)\n\n"
                    "print(_normalise(np.ones(3)))\n")]
    cee = "def cross_entropy_error(y, t):\n    return -np.log(y[t] + EPS)\n"
    prelude, unavailable = plan(cands, [SOFTMAX, cee])
    assert unavailable == {}
    src = "".join(s for _, s in prelude)
    assert "EPS = 1e-7" in src and "def _normalise" in src
    assert "matplotlib" not in src and "print(" not in src        # not needed / does work
    import numpy as np
    ns = run([("np", "import numpy as np\n")] + prelude, [SOFTMAX, cee])
    assert np.allclose(ns["softmax"](np.zeros(2)), [0.5, 0.5])


def test_line_numbers_are_those_of_the_notebook_cell():
    cands = [("#3", "x = compute()\n\nTAU = 6.28\n")]
    prelude, _ = plan(cands, ["def f():\n    return TAU\n"])
    assert prelude == [("#3", "\n\nTAU = 6.28\n")]


def test_statements_that_do_work_are_not_run_and_named_in_feedback():
    cands = [("#5", "W_best = train(X, y)\n"),
             ("#6", "def scale():\n    return 3.0\n\nSCALE = scale()\n"),
             ("#7", "for i in range(3):\n    LOOPED = i\n"),
             ("#8", "A = 1; B = print('side effect')\n")]
    sol = "def f(x):\n    return W_best @ x * SCALE + LOOPED + A\n"
    prelude, unavailable = plan(cands, [sol])
    assert prelude == []
    assert set(unavailable) == {"W_best", "SCALE", "LOOPED", "A"}
    assert unavailable["W_best"].startswith("`W_best` is set in cell #5 by `W_best = train(X, y)`")
    assert "does not run" in unavailable["SCALE"]


def test_names_from_test_cells_are_explained_not_run():
    prelude, unavailable = plan([], ["def f():\n    return HELPER()\n"],
                                test_cells=[("#9", "def HELPER():\n    return 1\n")])
    assert prelude == [] and "graded test cell (#9)" in unavailable["HELPER"]


def test_only_what_solutions_need_transitively():
    cands = [("#2", "import json\nimport math as m\n"),
             ("#3", "def a():\n    return b() + m.pi\n\ndef b():\n    return K\n\ndef unused():\n    return 0\n"),
             ("#4", "K = (1, 2)[0] if True else 3\nK = 2\n")]
    prelude, unavailable = plan(cands, ["def softmax(x):\n    return a()\n"])
    src = "".join(s for _, s in prelude)
    assert "import math as m" in src and "import json" not in src
    assert "def a" in src and "def b" in src and "def unused" not in src
    assert "K = 2" in src and "if True" not in src
    assert run(prelude, ["def softmax(x):\n    return a()\n"])["softmax"](0) == 2 + 3.141592653589793


def test_a_solution_name_is_never_redefined_from_another_cell():
    cands = [("#2", "def softmax(x):\n    return 'old draft'\n"),
             ("#3", "def helper():\n    return softmax(1)\n")]
    sol = "def softmax(x):\n    return 'final'\n"
    prelude, _ = plan(cands, [sol, "def g():\n    return helper()\n"])
    ns = run(prelude, [sol, "def g():\n    return helper()\n"])
    assert ns["g"]() == "final" and "old draft" not in "".join(s for _, s in prelude)


def test_constant_subset():
    modules = {"np": "numpy", "m": "math", "zeros": "numpy", "helpers": "helpers",
               "train": "helpers", "nla": "numpy.linalg"}
    ok = ["1e-7", "(3, 4)", "[1, 2]", "{'a': 1}", "2 * np.pi", "-1", "not X", "a < b",
          "f'{N}x'", "{1, 2}", "np.finfo(float).eps", "np.ones(3).sum()", "m.log(2)",
          "zeros((2, 3))", "float('1e-7')", "x[0]", "SHAPE[1:]", "nla.norm([3, 4])",
          "np.arange(10)[::2]", "max(1, 2)"]
    bad = ["f()", "train(X)", "helpers.fit(1)", "[i for i in r]", "lambda: 1", "{**d}",
           "(yield)", "a if b else c", "await x", "np.ones(*s)", "np.ones(**k)",
           "print('x')", "open('f').read()", "len.__call__(x)", "np.ones(f())",
           "getattr(np, 'x')()", "(lambda: np)().ones(3)"]
    for src in ok:
        assert is_constant(ast.parse(src, mode="eval").body, modules), src
    for src in bad:
        try:
            tree = ast.parse(src, mode="eval")
        except SyntaxError:
            continue
        assert not is_constant(tree.body, modules), src


def test_numpy_and_math_constants_are_run_through_their_imports():
    cands = [("#2", "import numpy as onp\nimport math\nfrom helpers import train\n"
                    "TINY = onp.finfo(float).eps\nLOG2 = math.log(2)\nW = train()\n")]
    sol = "def f():\n    return TINY + LOG2 + W\n"
    prelude, unavailable = plan(cands, [sol])
    src = "".join(s for _, s in prelude)
    assert "import numpy as onp" in src and "import math" in src and "TINY" in src
    assert "LOG2" in src and "train" not in src and set(unavailable) == {"W"}


def test_uses_are_globals_only_not_parameters_or_locals():
    src = "def f(W, X):\n    C = W.shape[0]\n    return helper(X) + C + EPS\n"
    assert uses(src) == {"helper", "EPS"}
    assert uses("def broken(:\n") == set()


def test_hostile_cells_do_not_break_the_analysis():
    deep = "x = " + "(" * 500 + "1" + ")" * 500 + "\n"
    cands = [("#2", deep), ("#3", "def h(:\n"), ("#4", "\x00"), ("#5", "def ok():\n    return 1\n")]
    prelude, unavailable = plan(cands, ["def f():\n    return ok() + nowhere\n", "def (:\n"])
    assert [label for label, _ in prelude] == ["#5"]


def test_many_needed_definitions_in_a_huge_cell_stay_linear():
    import threading
    import time
    cell = "\n".join(f"C{i} = {i}" for i in range(20000)) + "\n"
    sol = "def f():\n    return " + " + ".join(f"C{i}" for i in range(0, 20000, 7)) + "\n"
    t = time.process_time()
    # In a thread of its own: Python's symbol table (definitions.uses) allows a depth
    # relative to the caller's stack, and the grader calls it from the reader child's
    # shallow one, not from under pytest (and xdist) frames.
    result = []
    worker = threading.Thread(target=lambda: result.append(plan([("#2", cell)], [sol])))
    worker.start()
    worker.join()
    prelude, unavailable = result[0]
    assert time.process_time() - t < 20
    assert len(prelude) == len(range(0, 20000, 7)) and unavailable == {}
    assert sum(len(src) for _, src in prelude) < 10 * 1024 * 1024
    assert run(prelude, [sol])["f"]() == sum(range(0, 20000, 7))


def test_a_constant_made_from_work_is_not_run_and_says_which_name_it_lacks():
    cands = [("#25", "data = load_digits_split(num_val=300)\n"),
             ("#26", "X_train, y_train = data['X_train'], data['y_train']\nD = X_train.shape[0]\n")]
    sol = "def f():\n    return X_train.sum() + D\n"
    prelude, unavailable = plan(cands, [sol])
    assert prelude == []
    assert "which needs `data`" in unavailable["X_train"]
    assert "which needs `X_train`" in unavailable["D"]
    assert "`data` is set in cell #25 by `data = load_digits_split" in unavailable["data"]


def test_star_imports_run_when_a_name_has_no_other_definition():
    """`from numpy import *` in a cell of one's own works as in the notebook (issue 16)."""
    import numpy as np
    sol = "def f(x):\n    return exp(x) * TAU\n"
    cands = [("#2", "from numpy import *\nfrom math import *\n"), ("#3", "TAU = 2 * pi\n")]
    prelude, unavailable = plan(cands, [sol])
    assert [s.strip() for _, s in prelude] == ["from numpy import *", "from math import *",
                                               "TAU = 2 * pi"]
    assert np.isclose(run(prelude, [sol])["f"](0.0), 2 * np.pi)
    # Not needed, not run; a helper module's star import that sets nothing is named.
    assert plan(cands, ["def g(x):\n    return np.exp(x)\n"]) == ([], {})
    prelude, unavailable = plan([("#4", "from gradient_check import *\n")], [sol])
    assert len(prelude) == 1 and "from gradient_check import *" in unavailable["exp"]
    assert "(cell #4), which did not set it" in unavailable["TAU"]


def test_a_star_import_does_not_hide_a_name_set_by_work():
    cands = [("#2", "from numpy import *\n"), ("#3", "data = load()\nD = data.shape[0]\n")]
    _, unavailable = plan(cands, ["def f():\n    return D\n"])
    assert "which needs `data`" in unavailable["D"]
