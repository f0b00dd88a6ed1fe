"""Run a reference as a script: train with its tutorial's recipe, then compare with the tutorial.

    python -m reference.adadelta_dropout --dataset fashion_mnist

Trains on the full training split of the chosen dataset (default: MNIST), shows a rich progress
display, and ends with the test accuracy beside the documented one.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from types import ModuleType

from rich.console import Console
from rich.table import Table

from grader.data import DATASETS, DataError, load_dataset, prepare


def _arguments(module: ModuleType) -> argparse.Namespace:
    assert module.__spec__ is not None  # imported, or run with python -m
    name = module.__spec__.name  # "reference.<name>", also when run as __main__
    parser = argparse.ArgumentParser(
        prog=f"python -m {name}", description=(module.__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--dataset", default="mnist", choices=sorted(DATASETS), help="default: mnist")
    parser.add_argument("--data-dir", type=Path, help="a folder holding the dataset files")
    parser.add_argument("--epochs", type=int, help="cap the recipe's epochs (for a quick run)")
    parser.add_argument("--run-dir", type=Path, help="where callbacks write (default: runs/<reference>)")
    args = parser.parse_args()
    args.name = name.rsplit(".", 1)[-1]
    return args


def main(module: ModuleType) -> None:
    """Train ``module``'s model with its recipe and print the comparison with its tutorial."""
    args = _arguments(module)
    console = Console()
    try:
        data = load_dataset(args.dataset, data_dir=args.data_dir)
    except DataError as error:
        console.print(f"[red]{error}[/red]")
        raise SystemExit(2) from None
    import keras

    from grader.progress import rich_progress

    recipe, documented = module.RECIPE, module.DOCUMENTED
    run_dir = args.run_dir or Path("runs") / args.name
    run_dir.mkdir(parents=True, exist_ok=True)
    console.print(f"[bold]{args.name}[/bold] (tutorial {documented.tutorial}: {documented.title})")
    console.print(f"data: {data.name} from {data.source.describe()}")
    console.print(
        f"recipe: {recipe.optimizer}, batch {recipe.batch_size}, up to {recipe.epochs} epochs, "
        f"validation {'on the test set' if recipe.validation == 'test' else f'split {recipe.validation}'}, "
        f"seed {recipe.seed} (tutorial: {documented.seed or 'not given'})"
    )
    keras.utils.set_random_seed(recipe.seed)
    x_train, y_train = prepare(data.x_train, data.y_train)
    x_test, y_test = prepare(data.x_test, data.y_test)
    model = module.build_model()
    kwargs = recipe.fit_kwargs(x_test=x_test, y_test=y_test, run_dir=run_dir, epochs=args.epochs)
    kwargs["callbacks"] = [*kwargs["callbacks"], rich_progress(console)]
    started = time.perf_counter()
    history = model.fit(x_train, y_train, verbose=0, **kwargs)
    seconds = time.perf_counter() - started
    if hasattr(module, "save"):
        module.save(model, run_dir)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0, batch_size=1000)[:2]

    table = Table(title=f"{args.name}: {len(history.epoch)} epochs in {seconds:.0f} s on {data.name}")
    table.add_column("")
    table.add_column("this run", justify="right")
    table.add_column(f"documented ({documented.dataset})", justify="right")
    table.add_row("test accuracy", f"{accuracy:.4f}", _figure(documented.test_accuracy))
    table.add_row("test loss", f"{loss:.4f}", _figure(documented.test_loss))
    table.add_row("parameters", f"{model.count_params():,}", f"{documented.total_params:,}")
    console.print(table)
    if data.name != documented.dataset:
        console.print(
            f"[yellow]Trained on {data.name}; the documented figures are for {documented.dataset}.[/yellow]"
        )
    if documented.result:
        console.print(f"tutorial's run: {documented.result}")


def _figure(value: float | None) -> str:
    return "not given" if value is None else f"{value:.4f}"
