"""go-ethereum v1.13.15, built once from the Go module proxy and cached outside the clone.

v1.13.15 is the last go-ethereum release that seals Clique blocks (its fork ceiling for Clique
is London, which runs the contracts built for ``paris``). It is built with the local Go
toolchain (``go install``) into ``<cache>/geth-v1.13.15/geth``, where ``<cache>`` is
``${XDG_CACHE_HOME:-~/.cache}/customs-ledger`` (:meth:`ledger.settings.Settings.cache_root`);
a build takes about 3.5 minutes on two cores with empty Go caches, and every later call re-uses
the binary. ``LEDGER_NETWORK_GETH`` names a binary to use instead.

Two processes asking at once build it once: the build holds a lock file, writes into a
temporary directory and renames the binary into place.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from ledger.errors import GethBuildError
from ledger.settings import Settings

__all__ = ["GETH_MODULE", "GETH_VERSION", "cached_geth_path", "ensure_geth", "geth_version"]

log = logging.getLogger("ledger.network.geth")

GETH_VERSION = "v1.13.15"
GETH_MODULE = "github.com/ethereum/go-ethereum/cmd/geth"
BUILD_TIMEOUT_SECONDS = 1500.0

# Go >= 1.23 refuses the //go:linkname references into the runtime that v1.13's dependencies
# make; -checklinkname=0 lets the linker accept them. GOTOOLCHAIN=local: build with the Go
# installed here, never download another toolchain. GOFLAGS=-mod=mod: go.mod is authoritative.
_LDFLAGS = "-checklinkname=0"
_BUILD_ENV = {"GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod -buildvcs=false"}


def cached_geth_path(settings: Settings | None = None) -> Path:
    """Where the cached build of :data:`GETH_VERSION` lives (whether or not it exists)."""
    settings = settings if settings is not None else Settings()
    return settings.cache_root() / f"geth-{GETH_VERSION}" / "geth"


def geth_version(binary: Path) -> str:
    """The version line of ``geth version`` (e.g. ``1.13.15-stable``)."""
    try:
        done = subprocess.run(
            [str(binary), "version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as exc:
        raise GethBuildError(f"cannot run {binary}: {exc}") from exc
    if done.returncode != 0:
        raise GethBuildError(f"{binary} version exited {done.returncode}: {done.stderr.strip()}")
    for line in done.stdout.splitlines():
        if line.startswith("Version:"):
            return line.split(":", 1)[1].strip()
    raise GethBuildError(f"{binary} version printed no version: {done.stdout.strip()!r}")


def _is_wanted(binary: Path) -> bool:
    return binary.is_file() and geth_version(binary).startswith(GETH_VERSION.lstrip("v"))


def ensure_geth(settings: Settings | None = None, *, build: bool = True) -> Path:
    """The geth binary to run: the configured one, else the cached build (built if missing)."""
    settings = settings if settings is not None else Settings()
    if settings.network_geth is not None:
        if not settings.network_geth.is_file():
            raise GethBuildError(f"LEDGER_NETWORK_GETH={settings.network_geth} is not a file")
        log.info("using geth %s (%s)", settings.network_geth, geth_version(settings.network_geth))
        return settings.network_geth
    target = cached_geth_path(settings)
    if _is_wanted(target):
        log.info("using cached geth %s at %s", GETH_VERSION, target)
        return target
    if not build:
        raise GethBuildError(f"no geth {GETH_VERSION} at {target} (run `ledger network geth`)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it right now
        if _is_wanted(target):
            log.info("using geth %s built meanwhile at %s", GETH_VERSION, target)
            return target
        _build(target)
    return target


def _build(target: Path) -> None:
    go = shutil.which("go")
    if go is None:
        raise GethBuildError(
            f"geth {GETH_VERSION} is not cached at {target} and Go is not installed: install Go "
            "(>= 1.21) or set LEDGER_NETWORK_GETH to a geth binary"
        )
    log.info(
        "building geth %s into %s with %s (first time only; about 3-4 minutes on 2 cores)",
        GETH_VERSION,
        target,
        go,
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as tmp:
        # The child needs the caller's environment (PATH, HOME, GOPATH, proxies) plus ours.
        env = {**os.environ, **_BUILD_ENV, "GOBIN": tmp}
        cmd = [go, "install", f"-ldflags={_LDFLAGS}", f"{GETH_MODULE}@{GETH_VERSION}"]
        try:
            done = subprocess.run(
                cmd,
                env=env,
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise GethBuildError(
                f"building geth took more than {BUILD_TIMEOUT_SECONDS:.0f} s"
            ) from exc
        if done.returncode != 0:
            tail = "\n".join(done.stderr.strip().splitlines()[-25:])
            raise GethBuildError(f"`{' '.join(cmd)}` failed ({done.returncode}):\n{tail}")
        built = Path(tmp) / "geth"
        if not built.is_file():
            raise GethBuildError(f"`{' '.join(cmd)}` produced no {built}")
        built.replace(target)
    version = geth_version(target)
    log.info("built geth %s in %.0f s: %s", version, time.monotonic() - started, target)
