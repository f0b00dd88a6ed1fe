"""Print the benchmark tables from one pytest-benchmark JSON file: every ratio in them is taken
between figures of that same run.

python benchmarks/report.py .benchmarks/throughput.json
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def loop_table(runs: list[dict[str, Any]]) -> Table | None:
    """Per reference: plain fit, the grader's loop (float32, bfloat16), peak fractions, accuracy."""
    by_reference = {
        run["extra_info"]["reference"]: run["extra_info"]["loops"]
        | {"batch_size": run["extra_info"]["batch_size"]}
        for run in runs
        if "loops" in run["extra_info"]
    }
    if not by_reference:
        return None
    table = Table(
        title="One epoch of 60,000 Fashion-MNIST images in 5 interleaved chunks: best chunk's images/s, ratio to plain"
    )
    for column in (
        "reference",
        "batch",
        "plain",
        "grader fp32",
        "ratio",
        "grader bf16",
        "ratio",
        "fp32 peak",
        "bf16 peak",
        "acc fp32",
        "acc bf16",
        "Δ pt",
    ):
        table.add_column(column, justify="right")
    for name, loops in by_reference.items():
        plain, fp32, bf16 = (loops.get(loop, {}) for loop in ("plain", "grader", "grader-bf16"))
        speed = {key: info.get("images_per_s") for key, info in (("p", plain), ("f", fp32), ("b", bf16))}
        delta = f"{(bf16['test_accuracy'] - fp32['test_accuracy']) * 100:+.2f}" if bf16 and fp32 else "-"
        table.add_row(
            name,
            str(loops["batch_size"]),
            f"{speed['p']:,}" if speed["p"] else "-",
            f"{speed['f']:,}" if speed["f"] else "-",
            _ratio(speed["f"], speed["p"]),
            f"{speed['b']:,}" if speed["b"] else "-",
            _ratio(speed["b"], speed["p"]),
            f"{fp32['fraction_of_peak']:.1%}" if fp32 else "-",
            f"{bf16['fraction_of_peak']:.1%}" if bf16 else "-",
            f"{fp32['test_accuracy']:.2%}" if fp32 else "-",
            f"{bf16['test_accuracy']:.2%}" if bf16 else "-",
            delta,
        )
    peak = next((run["extra_info"] for run in runs if "float32_gflops" in run["extra_info"]), None)
    if peak:
        theoretical = peak.get("theoretical_float32_gflops")
        table.caption = (
            f"peak (best of several kernels): float32 {peak['float32_gflops']} GFLOP/s, bfloat16 "
            f"{peak['bfloat16_gflops']} GFLOP/s"
            + (
                f"; the processor's theoretical float32 limit at its boost clock: {theoretical} GFLOP/s"
                if theoretical
                else f"; the processor's theoretical limit: {peak.get('theoretical_basis', 'unknown')}"
            )
            + "; peak fractions are of the grader loop's own precision"
        )
    return table


def accuracy_table(runs: list[dict[str, Any]]) -> Table | None:
    """Per reference: seconds until the target test accuracy, for each loop."""
    by_reference: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for run in runs:
        info = run["extra_info"]
        if "seconds_to_target" in info:
            by_reference[info["reference"]][info["loop"]] = info
    if not by_reference:
        return None
    target = next(iter(next(iter(by_reference.values())).values()))["target"]
    table = Table(title=f"Time to {target:.0%} test accuracy on the MNIST sample (8,000 training images)")
    for column in ("reference", "plain", "grader fp32", "ratio", "grader bf16", "ratio"):
        table.add_column(column, justify="right")

    def cell(info: dict[str, Any]) -> str:
        if not info:
            return "-"
        if not info["reached"]:
            return f"not in {info['epochs']} epochs ({info['accuracy_per_epoch'][-1]:.1%})"
        return f"{info['seconds_to_target']:.1f} s ({info['epochs']} ep)"

    for name, loops in by_reference.items():
        plain, fp32, bf16 = (loops.get(loop, {}) for loop in ("plain", "grader", "grader-bf16"))
        seconds = {
            key: info.get("seconds_to_target") for key, info in (("p", plain), ("f", fp32), ("b", bf16))
        }
        table.add_row(
            name,
            cell(plain),
            cell(fp32),
            _ratio(seconds["p"], seconds["f"]),
            cell(bf16),
            _ratio(seconds["p"], seconds["b"]),
        )
    table.caption = "ratio: plain seconds / grader seconds (above 1 is faster)"
    return table


def profile_tables(runs: list[dict[str, Any]]) -> list[Table]:
    """Per reference: each layer's forward and backward time against one whole training step."""
    tables = []
    for run in runs:
        info = run["extra_info"]
        if "layers" not in info:
            continue
        table = Table(
            title=f"{info['reference']}, batch {info['batch_size']}: one training step {info['step_ms']} ms, "
            f"layers alone {info['layers_ms']} ms ({info['outside_layers_fraction']:.0%} of the step outside them; "
            "each layer's pass repeated inside one call)"
        )
        for column in ("layer", "output", "ms", "of step", "GFLOP/s", "of fp32 peak"):
            table.add_column(column, justify="right")
        for row in info["layers"]:
            table.add_row(
                row["layer"],
                "x".join(str(d) for d in row["output"]),
                f"{row['ms']:.2f}",
                f"{row['ms'] / info['step_ms']:.0%}",
                f"{row['gflops_per_s']:.1f}" if row["gflops_per_s"] else "-",
                f"{row['fraction_of_peak']:.1%}" if row["fraction_of_peak"] else "-",
            )
        tables.append(table)
    return tables


def capture_table(runs: list[dict[str, Any]]) -> Table | None:
    """Per tutorial: building its model.py, its script and its notebook (wall s / CPU s)."""
    found = next((run["extra_info"]["capture"] for run in runs if "capture" in run["extra_info"]), None)
    if not found:
        return None
    table = Table(
        title="Building each tutorial in the sandboxed builder, after Keras has started: wall s / CPU s"
    )
    for column in ("tutorial", "model.py", "script", "notebook"):
        table.add_column(column, justify="right")
    for name, forms in found.items():
        table.add_row(
            name,
            *(
                f"{forms[f]['build_s']:.2f} / {forms[f]['cpu_s']:.2f}"
                for f in ("model.py", "script", "notebook")
            ),
        )
    return table


def lines(runs: list[dict[str, Any]]) -> list[str]:
    """One line each for grading overhead, the sandbox and class throughput."""
    found = []
    for run in runs:
        info = run["extra_info"]
        if "overhead_ratio" in info:
            found.append(
                f"grading overhead, alice: total {info['total_s']} s / training {info['train_s']} s = "
                f"{info['overhead_ratio']}x (medians of {info['rounds']}: start-up {info['startup_s']} s, "
                f"build {info['build_s']} s, training began at {info['before_training_s']} s, "
                f"verifier's predictions {info['predict_s']} s)"
            )
            if "own_core_only_overhead_ratio" in info:
                found.append(
                    f"  on its own core only (no core lent for start-up): total {info['own_core_only_total_s']} s / "
                    f"training {info['own_core_only_train_s']} s = {info['own_core_only_overhead_ratio']}x, "
                    f"training began at {info['own_core_only_before_training_s']} s"
                )
            if "kept_warm_overhead_ratio" in info:
                found.append(
                    f"  after `grader warm start` (children forked from a kept zygote): total "
                    f"{info['kept_warm_total_s']} s / training {info['kept_warm_train_s']} s = "
                    f"{info['kept_warm_overhead_ratio']}x, training began at {info['kept_warm_before_training_s']} s"
                )
        elif "jobs2_per_hour" in info:
            found.append(
                f"class of {info['submissions']} on {info['cores']} cores: --jobs 1 {info['jobs1_per_hour']:,} "
                f"submissions/hour ({info['jobs1_seconds']} s), --jobs 2 {info['jobs2_per_hour']:,}/hour "
                f"({info['jobs2_seconds']} s), {info['speedup']} x; --jobs 2 with no child kept warm "
                f"{info['cold_per_hour']:,}/hour ({info['cold_seconds']} s), warm children "
                f"{info['warm_speedup']} x; rerun with nothing changed {info['rerun_seconds']} s"
            )
        elif "total_ratio" in info:
            phases = "; ".join(
                f"{phase} {info[phase + '_s']['bubblewrap']} s vs {info[phase + '_s']['plain']} s"
                for phase in ("total", "startup", "train", "predict")
            )
            found.append(
                f"sandbox overhead, bubblewrap / plain child: {info['total_ratio']:.3f}x total ({phases})"
            )
    return found


def main(path: str) -> None:
    runs = json.loads(Path(path).read_text())["benchmarks"]
    console = Console(width=160)
    for table in (loop_table(runs), accuracy_table(runs), *profile_tables(runs), capture_table(runs)):
        if table is not None:
            console.print(table)
    for line in lines(runs):
        console.print(line)


if __name__ == "__main__":
    main(sys.argv[1])
