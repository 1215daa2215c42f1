"""dask.distributed for every layer: importing it with a clear error, and a LocalCluster for one run.

Solving chunks of products (`tradesim.models.distributed`) and ensembles of draws
(`tradesim.ensemble`) share these, so they live in the lowest layer that uses them. dask is
imported only inside these functions: importing tradesim never needs it.
"""

from __future__ import annotations

import contextlib

from ..errors import InputError

__all__ = ["DASK_HINT", "import_distributed", "local_cluster", "scratch_folder", "using_client", "workers_of"]

DASK_HINT = 'the Dask engine needs dask.distributed: pip install "tradesim[dask]" (or "dask[distributed]")'


def import_distributed():
    """The ``distributed`` module, or `InputError` (key ``engine``) saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise InputError(DASK_HINT, key="engine") from None
    return distributed


def local_cluster(distributed, **kwargs):
    """A LocalCluster whose workers keep glibc's default memory trimming.

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also fixes glibc's
    mmap threshold, so every large temporary array of a solve is a fresh ``mmap`` and its pages
    fault in anew: chunks of the models ran four times slower under it (measured on
    us-china-2025).
    """
    import dask

    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    settings = {"distributed.nanny.pre-spawn-environ": environ}
    if kwargs.get("local_directory"):  # the scheduler's and nanny's lock files too, not only the workers'
        settings["temporary-directory"] = kwargs["local_directory"]
    with dask.config.set(settings):
        return distributed.LocalCluster(**{"threads_per_worker": 1, "processes": True, "dashboard_address": ":0",
                                           **kwargs})


def scratch_folder():
    """A temporary folder for a LocalCluster of one run (removed by its ``cleanup()``, even if files remain)."""
    import tempfile

    return tempfile.TemporaryDirectory(prefix="tradesim-dask-", ignore_cleanup_errors=True)


@contextlib.contextmanager
def using_client(client=None):
    """`client`, or a LocalCluster's client for the ``with`` block (closed after it, its folder removed)."""
    distributed = import_distributed()
    if client is not None:
        yield client
        return
    scratch = scratch_folder()  # lock files and worker spill stay in a folder this run owns
    cluster = local_cluster(distributed, local_directory=scratch.name)
    own = distributed.Client(cluster)
    try:
        yield own
    finally:
        own.close()
        cluster.close()
        scratch.cleanup()


def workers_of(client) -> int:
    """Number of workers of `client` (at least 1)."""
    return max(1, len(client.scheduler_info().get("workers", {})))
