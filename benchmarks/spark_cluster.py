"""A Spark standalone cluster on 127.0.0.1 from the pyspark package: a master and workers, always stopped.

Used by the Spark benchmark (:mod:`benchmarks.bench_spark`) and by the test that runs a report on a real
cluster (``tests/test_spark.py``). Each process runs ``spark-class`` from the installed pyspark in its own
process group, so the memory of a worker and of the executors it starts can be measured apart from the
driver's (:func:`benchmarks.child.rss_mb`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

__all__ = ["Cluster", "standalone_cluster"]


@dataclass(frozen=True)
class Cluster:
    """A running standalone cluster."""

    url: str
    """``spark://127.0.0.1:PORT``, for ``--spark-master``."""
    env: dict[str, str]
    """The environment its processes run with (``SPARK_HOME``, ``PYSPARK_PYTHON``, ...): run drivers with it."""
    worker_pids: tuple[int, ...] = field(default=())
    """Each worker's process, the leader of its process group (its executors run in that group)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def standalone_cluster(folder: Path, *, workers: int = 2, cores: int = 1, memory: str = "2g",
                       start_timeout_s: float = 300) -> Iterator[Cluster]:
    """Start a master and ``workers`` workers (``cores`` cores and ``memory`` each) on 127.0.0.1; stop them after.

    Logs go to ``folder/master.log`` (every process) and the workers' folders are ``folder/work0``, ...
    The context waits until every worker has registered with the master, and stops every process it
    started when it exits, also on an error or an interrupt.
    """
    import pyspark

    home = Path(pyspark.__file__).resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SPARK_HOME": str(home), "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1",
           "SPARK_LOG_DIR": str(folder / "logs"), "SPARK_WORKER_DIR": str(folder / "work")}
    port = _free_port()
    url = f"spark://127.0.0.1:{port}"
    spark_class = str(home / "bin" / "spark-class")
    log_path = folder / "master.log"
    log = open(log_path, "wb")
    processes = [subprocess.Popen([spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                   "--port", str(port), "--webui-port", str(_free_port())],
                                  env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)]
    try:
        for i in range(workers):
            processes.append(subprocess.Popen(
                [spark_class, "org.apache.spark.deploy.worker.Worker", url, "--host", "127.0.0.1", "--cores",
                 str(cores), "--memory", memory, "--webui-port", str(_free_port()), "--work-dir", str(folder / f"work{i}")],
                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + start_timeout_s
        while log_path.read_text(errors="replace").count("Registering worker") < workers:
            tail = log_path.read_text(errors="replace")[-3000:]
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise RuntimeError(f"the standalone cluster did not start:\n{tail}")
            time.sleep(1)
        yield Cluster(url=url, env=env, worker_pids=tuple(p.pid for p in processes[1:]))
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
