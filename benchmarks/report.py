"""Print the throughput table from a pytest-benchmark JSON file.

python benchmarks/report.py .benchmarks/throughput.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table


def main(path: str) -> None:
    runs = json.loads(Path(path).read_text())["benchmarks"]
    table = Table(title="one epoch, 60,000 Fashion-MNIST images")
    sandbox = ""
    classes: list[str] = []
    for column in ("reference", "batch", "images/s", "MFLOP/image", "GFLOP/s", "of fp32 peak"):
        table.add_column(column, justify="right")
    for run in runs:
        info = run["extra_info"]
        if "images_per_s" in info:
            table.add_row(
                run["param"],
                str(info["batch_size"]),
                f"{info['images_per_s']:,}",
                f"{info['training_mflops_per_image']:.1f}",
                f"{info['achieved_gflops']:.1f}",
                f"{info['fraction_of_float32_peak']:.1%}",
            )
        elif "jobs2_per_hour" in info:
            classes.append(
                f"class of {info['submissions']} on {info['cores']} cores: --jobs 1 {info['jobs1_per_hour']:,} "
                f"submissions/hour ({info['jobs1_seconds']} s), --jobs 2 {info['jobs2_per_hour']:,}/hour "
                f"({info['jobs2_seconds']} s), {info['speedup']} x; rerun with nothing changed "
                f"{info['rerun_seconds']} s"
            )
        elif "total_ratio" in info:
            sandbox = (
                f"sandbox overhead, bubblewrap / plain child: {info['total_ratio']:.3f} x total grading time"
            )
        else:
            table.caption = ", ".join(f"{key}: {value}" for key, value in info.items())
    console = Console()
    if table.row_count:
        console.print(table)
    if sandbox:
        console.print(sandbox, info_line(runs))
    for line in classes:
        console.print(line)


def info_line(runs: list[dict]) -> str:
    """The sandbox benchmark's per-phase medians, one phase per part."""
    info = next(run["extra_info"] for run in runs if "total_ratio" in run["extra_info"])
    return (
        "("
        + "; ".join(
            f"{phase} {info[phase + '_s']['bubblewrap']} s vs {info[phase + '_s']['plain']} s"
            for phase in ("total", "startup", "train", "predict")
        )
        + ")"
    )


if __name__ == "__main__":
    main(sys.argv[1])
