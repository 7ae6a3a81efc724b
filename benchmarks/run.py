"""skmoe's benchmark suite: quality, speed and scale, and R's flexmix side by side.

    python benchmarks/run.py             # the full run (about 30-40 minutes on 2 cores)
    python benchmarks/run.py --quick     # a short run (under 2 minutes)
    python -m benchmarks --only flexmix  # one part (quality, scale, flexmix)

Writes RESULTS.md and PNG plots (in results/) into --out (default: this
folder) and prints the tables. Nothing here is asserted: timings depend on the
machine and on what else runs on it, which is why RESULTS.md records the
machine, the versions, the date and the load average.

The parts:

- quality (``quality.py``): cross-validated R²/RMSE/held-out log-likelihood
  or accuracy/log-loss on ten data sets, skmoe next to its single experts,
  Voting, Stacking, HistGradientBoosting and LightGBM linear trees;
- scale (``scale.py``): fit time against n (1,000 to 1,000,000 rows) and
  against the number of experts (2 to 32), the ratio to the numpy EM of
  ``bench_core.py``, predict dense against top-k and a per-row loop;
- flexmix (``flexmix.py`` and ``flexmix_fit.R``): the same data fitted by R's
  flexmix through Rscript, when R and flexmix are installed (otherwise the
  part says how to install them and is skipped).
"""

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import flexmix, quality, scale  # noqa: E402
from benchmarks._common import (  # noqa: E402
    add_threads_argument,
    environment,
    limit_threads,
)
from benchmarks.report import (  # noqa: E402
    format_load,
    load_average,
    machine_line,
    md_table,
)

PARTS = ("quality", "scale", "flexmix")
HERE = Path(__file__).resolve().parent


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short run: fewer folds and seeds, smaller data, a "
        "smaller scale grid, flexmix at K=2 and n=3,000 only",
    )
    # Tiny sizes for the smoke test; not a benchmark.
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=PARTS,
        metavar="PART",
        help="run only these parts: quality, scale, flexmix",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=HERE,
        metavar="DIR",
        help="where RESULTS.md and results/*.png go (default: the benchmarks folder)",
    )
    parser.add_argument(
        "--rscript",
        default=None,
        metavar="PATH",
        help="the Rscript to run flexmix with (default: "
        f"${flexmix.RSCRIPT_ENV}, else Rscript on PATH)",
    )
    add_threads_argument(parser)
    return parser.parse_args(argv)


def _versions(flexmix_part):
    extras = []
    if quality.lightgbm is not None:
        extras.append(f"lightgbm {quality.lightgbm.__version__}")
    else:
        extras.append("lightgbm not installed")
    if flexmix_part is not None:
        data = flexmix_part.data or {}
        extras.append(
            f"R flexmix {data['version']}"
            if data.get("available")
            else "R flexmix not available"
        )
    return ", ".join(extras)


def results_markdown(parts, profile, command, seconds, env):
    by_name = {part.name: part for part in parts}
    lines = [
        "# skmoe benchmark results\n",
        f"Written by `{command}` ({profile} profile) in {seconds / 60:.1f} "
        "minutes. Benchmarks, not tests: nothing here is asserted, and every "
        "number depends on the machine below and on what else ran on it.\n",
        f"- Machine: {machine_line()}",
        f"- Versions: {env}; {_versions(by_name.get('flexmix'))}",
        "- Load average (`os.getloadavg()`, 1/5/15 min) before and after each "
        "part: "
        + "; ".join(
            f"{part.name} {format_load(part.load_before)} → "
            f"{format_load(part.load_after)} ({part.seconds / 60:.1f} min)"
            for part in parts
        )
        + ". A load above the number of cores means other programs shared the "
        "cores during the timings: wall times are then inflated and noisy; the "
        "ratios in CPU time are steadier.",
        "- Rerun: `python benchmarks/run.py` (or `python -m benchmarks`); "
        "`--quick` for a short run, `--only quality|scale|flexmix` for one part, "
        "`--out DIR` elsewhere.\n",
        "## Targets\n",
        "From the benchmark issue; reported, not tuned for.\n",
        md_table(
            ["target", "result", "numbers"],
            [row for part in parts for row in part.targets],
        ),
        "",
    ]
    for part in parts:
        lines.append(part.markdown)
    figures = [f for part in parts for f in part.figures]
    if figures:
        lines.append("## Plots\n")
        for path in figures:
            lines.append(f"![{path.stem}](results/{path.name})\n")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    profile = "tiny" if args.tiny else "quick" if args.quick else "full"
    selected = [p for p in PARTS if args.only is None or p in args.only]
    out = args.out
    (out / "results").mkdir(parents=True, exist_ok=True)
    command = "python benchmarks/run.py" + "".join(
        f" {a}" for a in (argv if argv is not None else sys.argv[1:])
    )
    start = time.perf_counter()
    parts = []
    with limit_threads(args.threads):
        env = environment()
        print(env)
        print(machine_line())
        for name in selected:
            print(f"\n== {name} ({profile}) ==", flush=True)
            load_before = load_average()
            part_start = time.perf_counter()
            if name == "quality":
                part = quality.run(profile, out, log=_progress)
            elif name == "scale":
                part = scale.run(profile, out, log=_progress)
            else:
                part = flexmix.run(profile, out, rscript=args.rscript, log=_progress)
            part.seconds = time.perf_counter() - part_start
            part.load_before, part.load_after = load_before, load_average()
            parts.append(part)
    by_name = {part.name: part for part in parts}
    if "scale" in by_name:
        flexmix_data = by_name.get("flexmix")
        flexmix_data = flexmix_data.data if flexmix_data is not None else None
        if flexmix_data is not None and not flexmix_data.get("available"):
            flexmix_data = None
        path = scale.plot_time_vs_n(
            by_name["scale"].data, flexmix_data, out / "results" / "time_vs_n.png"
        )
        by_name["scale"].figures.insert(0, path)
    seconds = time.perf_counter() - start
    text = results_markdown(parts, profile, command, seconds, env)
    (out / "RESULTS.md").write_text(text)
    print("\n" + text)
    print(
        f"\nWrote {out / 'RESULTS.md'} and {sum(len(p.figures) for p in parts)} "
        f"plots in {out / 'results'}; {seconds:.0f} s in all."
    )
    return 0


def _progress(text):
    print(text, flush=True)


if __name__ == "__main__":
    sys.exit(main())
