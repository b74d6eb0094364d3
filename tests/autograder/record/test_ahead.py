"""A kept value is read back only when made from the very same sources; a bad file or a
folder that cannot be written only means making it again."""
import pickle

import pytest

from autograder.record import ahead


@pytest.fixture
def package(tmp_path):
    (tmp_path / "a.py").write_text("SEED = 1\n")
    return tmp_path


def keep(folder, made, valid=lambda v: isinstance(v, dict)):
    def make():
        made.append(1)
        return {"value": len(made)}
    return ahead.kept(folder=folder, name="inputs", sources=[folder / "a.py"], make=make,
                      valid=valid)


def test_made_once_then_read_back(package):
    made = []
    assert keep(package, made) == {"value": 1}
    assert keep(package, made) == {"value": 1} and made == [1]
    assert len(list((package / "__pycache__").glob("inputs-*.pickle"))) == 1


def test_a_changed_source_makes_it_again_and_drops_the_old_file(package):
    made = []
    keep(package, made)
    (package / "a.py").write_text("SEED = 2\n")
    assert keep(package, made) == {"value": 2}
    assert len(list((package / "__pycache__").glob("inputs-*.pickle"))) == 1


def test_an_unreadable_or_refused_file_is_made_again(package):
    made = []
    keep(package, made)
    (path,) = (package / "__pycache__").glob("inputs-*.pickle")
    path.write_bytes(b"not a pickle")
    assert keep(package, made) == {"value": 2}
    path.write_bytes(pickle.dumps(["a list, not what make() returns"]))
    assert keep(package, made) == {"value": 3}


def test_a_folder_that_cannot_be_written_only_makes(package):
    (package / "__pycache__").write_text("a file where the folder would be")   # even for root
    made = []
    assert keep(package, made) == {"value": 1}
    assert keep(package, made) == {"value": 2}
