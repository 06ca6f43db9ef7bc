"""The report page, reports/compare/index.md: per task a table of every variant and its pictures,
and the original tutorials' recipes beside the modern variant with the same architecture."""

import json
import logging
from pathlib import Path

from rnncompare.config.params import Params
from rnncompare.core.outputs import replaced_directory
from rnncompare.report.figures import plot_bars, plot_curves, plot_lengths
from rnncompare.report.tables import (
    TASKS,
    TUTORIALS,
    champion_line,
    length_curve,
    read_history,
    read_json,
    table,
    trained_lengths,
    ui_of,
)

log = logging.getLogger(__name__)


def write_report(params: Params, models: list[str], store: str, out: Path) -> None:
    """reports/compare/index.md and its pictures, for `models` (<task>-<variant> names)."""
    ui = ui_of(store)
    page = [
        "# Recurrent variants compared",
        "",
        f"Made by `dvc repro` (stage `report`). MLflow links open the runs in `make ui` ({ui}).",
    ]
    with replaced_directory(out) as folder:
        for task in TASKS:
            names = [name for name in models if name.split("-", 1)[0] == task]
            if not names:
                continue
            metrics = {name: read_json(Path(f"metrics/{name}.json")) for name in names}
            summaries = {name: read_json(Path(f"models/{name}.json")) for name in names}
            histories = {name: read_history(Path(f"plots/history/{name}.csv")) for name in names}
            plot_curves(folder / f"{task}-validation.png", task, histories)
            plot_bars(folder / f"{task}-test.png", task, metrics)
            champion = Path(f"models/champion-{task}.json")
            page += ["", f"## {task}", ""] + table(task, names, metrics, summaries, store)
            if champion.is_file():
                page += ["", champion_line(task, json.loads(champion.read_text()))]
            page += [
                "",
                f"![{task} validation curves]({task}-validation.png)",
                f"![{task} test metrics]({task}-test.png)",
            ]
            if task == "sum":
                curves = {name: length_curve(metrics[name], params.sum.length) for name in names}
                plot_lengths(folder / "sum-lengths.png", curves, trained_lengths(params))
                page += [
                    "",
                    f"How far each variant counts, trained on {trained_lengths(params)} (the length sweep):",
                    "",
                    "![sum by sequence length](sum-lengths.png)",
                ]
        tutorials = [name for name in params.tutorials if (TUTORIALS / name / "metrics.json").is_file()]
        page += ["", "## The original tutorials' recipes next to the modern defaults", ""]
        if not tutorials:
            page.append("Not run yet: `make tutorials` trains them (tutorials/dvc.yaml).")
        for name in tutorials:
            partner = params.tutorials[name].compared_with
            task = params.tutorials[name].task
            rows = {f"tutorial-{name}": read_json(TUTORIALS / name / "metrics.json")}
            summaries = {f"tutorial-{name}": read_json(TUTORIALS / name / "summary.json")}
            if partner:
                rows[partner] = read_json(Path(f"metrics/{partner}.json"))
                summaries[partner] = read_json(Path(f"models/{partner}.json"))
            page += table(task, list(rows), rows, summaries, store) + [""]
        (folder / "index.md").write_text("\n".join(page) + "\n")
    log.info("wrote %s/index.md", out)
