"""Small helpers the benchmark parts share: Markdown tables, the machine, plots."""

import datetime
import os
import platform
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Part:
    """What one benchmark part hands to ``run.py``.

    ``markdown`` goes into RESULTS.md; ``targets`` are rows of the summary
    table, each ``(target, verdict, numbers)``; ``figures`` are PNG paths.
    """

    name: str
    markdown: str = ""
    targets: list = field(default_factory=list)
    figures: list = field(default_factory=list)
    seconds: float = 0.0
    load_before: tuple = ()
    load_after: tuple = ()
    data: object = None  # the raw results, for tests and further use


def cpu_model():
    """The CPU's model name, from /proc/cpuinfo where there is one."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine_line():
    """Machine, OS and date: one line."""
    return (
        f"{platform.node() or 'host'}: {cpu_model()}, {os.cpu_count()} logical "
        f"cores, {platform.system()} {platform.release()}; run on "
        f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}"
    )


def load_average():
    """``os.getloadavg()`` rounded, or () where the OS has none."""
    try:
        return tuple(round(x, 2) for x in os.getloadavg())
    except OSError:
        return ()


def format_load(load):
    return "/".join(f"{x:.2f}" for x in load) if load else "n/a"


def md_table(header, rows):
    """A Markdown table; numbers must already be formatted as strings."""
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def mean_std(values, digits=3):
    """``mean ± std`` of finite values; "—" when there are none."""
    values = np.asarray(values, dtype=float)
    if values.size == 0 or not np.all(np.isfinite(values)):
        return "—" if values.size == 0 else "nan"
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def seconds_text(seconds):
    """Seconds with a precision that suits their size."""
    if not np.isfinite(seconds):
        return "—"
    if seconds < 0.01:
        return f"{seconds * 1e3:.2f} ms"
    if seconds < 10:
        return f"{seconds:.3f}"
    return f"{seconds:.1f}"


def loglog_slope(x, y):
    """Least-squares slope of log(y) against log(x)."""
    x, y = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    return float(np.polyfit(x, y, 1)[0])


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


class Stopwatch:
    """Wall seconds of a ``with`` block, in ``.seconds``."""

    def __enter__(self):
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        return False
