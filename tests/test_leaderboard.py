"""The leaderboard: ranking and the public/private rule, the files, and the page in Chromium."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from grader.checks import CheckResult
from grader.leaderboard import build_boards, write_site
from grader.leaderboard.names import KEY_FILE, pseudonym_key, public_names, tag
from grader.results import Grade, Metrics, read_results, write_results

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ARTIFACTS = Path(__file__).parent.parent / "artifacts"


def stored(
    folder: Path,
    name: str,
    display: str,
    public: float | None,
    private: float | None,
    params: int,
    cost: float = 1.0,
    chosen: bool = True,
) -> None:
    """A results.json as the grader writes it, with only what the board reads."""
    metrics = Metrics(
        parameters=params,
        train_cost=cost,
        train_noise=0.07,
        public_accuracy=public,
        private_accuracy=private,
        accuracy=None if public is None else (public + private) / 2,
    )
    grade = Grade(
        submission=name,
        display_name=display,
        chose_name=chosen,
        assignment="a1",
        title="Assignment 1",
        dataset="mnist_sample",
        checks=(CheckResult("Test accuracy", 5, 5, "passed", ""),),
        execution_time=1.0,
        metrics=metrics,
        baseline={"reference": "ref", "parameters": 100, "public_accuracy": 0.95, "private_accuracy": 0.94},
    )
    write_results(grade, folder / name)


@pytest.fixture
def results(tmp_path) -> Path:
    stored(tmp_path, "s1", "Owl", 0.97, 0.90, 500)
    stored(tmp_path, "s2", "Fox", 0.96, 0.95, 500)
    stored(tmp_path, "s3", "Elk", 0.96, 0.95, 300)  # Fox's accuracy, fewer parameters
    stored(tmp_path, "s4", "Yak", 0.96, 0.95, 300, cost=0.5)  # and cheaper still
    stored(tmp_path, "s5", "Ant", None, None, 50)  # did not train
    return tmp_path


def test_public_board_ranks_by_public_accuracy_then_parameters_then_cost(results):
    (board,) = build_boards(results, deadline=NOW + timedelta(days=1), now=NOW)
    assert board.phase == "public"
    order = [(e.rank, e.name) for e in board.entries]
    assert order == [(1, "Owl"), (2, "Yak"), (3, "Elk"), (4, "Fox"), (None, "reference: ref"), (None, "Ant")]


def test_from_the_deadline_the_private_part_decides(results):
    (board,) = build_boards(results, deadline=NOW, now=NOW)
    assert board.phase == "final"
    assert [e.name for e in board.entries if e.rank][:4] == ["Yak", "Elk", "Fox", "Owl"]


def test_private_figures_are_not_published_before_the_deadline(results, tmp_path):
    boards = build_boards(results, deadline=None, now=NOW)
    write_site(boards, tmp_path / "site", title="Class", deadline=None, now=NOW)
    for name in ("leaderboard.json", "leaderboard.md", "index.html"):
        text = (tmp_path / "site" / name).read_text()
        assert "0.9" in text or "9" in text
        assert "private_accuracy" not in text and "90.00%" not in text and "0.900000" not in text, name
    final = build_boards(results, deadline=NOW, now=NOW)
    write_site(final, tmp_path / "final", title="Class", deadline=NOW, now=NOW)
    assert "90.00%" in (tmp_path / "final" / "index.html").read_text()


def test_costs_within_their_noise_share_a_rank(tmp_path):
    """Four copies of one submission, costs a few per cent apart (the clock claims ±14% at least)."""
    for number, cost in enumerate((1.0049, 1.0056, 1.0069, 1.0160)):
        stored(tmp_path, f"copy{number}", f"Copy {number}", 0.975, 0.97, 458_570, cost=cost)
    stored(tmp_path, "slow", "Slow", 0.975, 0.97, 458_570, cost=1.5)
    (board,) = build_boards(tmp_path, deadline=None, now=NOW)
    assert [(e.rank, e.name) for e in board.entries if not e.baseline] == [
        *((1, f"Copy {number}") for number in range(4)),
        (5, "Slow"),
    ]


def test_a_student_who_chose_no_name_gets_a_pseudonym(results):
    shutil.rmtree(results / "s5")
    stored(results, "s5", "Ant", None, None, 50, chosen=False)  # the folder's name, perhaps the student's own
    (board,) = build_boards(results, deadline=None, now=NOW)
    names = [entry.name for entry in board.entries]
    assert "Ant" not in names and "s5" not in names
    key = results / KEY_FILE  # made beside the results on first use, for their owner only
    assert key.stat().st_mode & 0o777 == 0o600
    pseudonym = "anonymous " + tag(pseudonym_key(results), "s5", 8)
    assert pseudonym in names
    assert hashlib.sha256(b"s5").hexdigest()[:6] not in pseudonym  # not the roster-reversible hash
    (again,) = build_boards(results, deadline=None, now=NOW)
    assert pseudonym in [entry.name for entry in again.entries]  # stable while the key is kept
    key.unlink()
    (fresh,) = build_boards(results, deadline=None, now=NOW)
    assert pseudonym not in [entry.name for entry in fresh.entries]


def test_two_students_who_chose_one_name_are_told_apart(tmp_path):
    stored(tmp_path, "s1", "Owl", 0.97, 0.90, 500)
    stored(tmp_path, "s2", "OWL", 0.96, 0.95, 500)
    stored(tmp_path, "s3", "Fox", 0.96, 0.95, 500)
    (board,) = build_boards(tmp_path, deadline=None, now=NOW)
    names = sorted(entry.name for entry in board.entries if not entry.baseline)
    key = pseudonym_key(tmp_path)
    assert names == sorted(["Fox", f"Owl #{tag(key, 's1', 4)}", f"OWL #{tag(key, 's2', 4)}"])
    assert len(set(names)) == 3


def test_hostile_display_names_stay_text(tmp_path):
    stored(tmp_path, "m", "<script>alert(1)</script> | $\\frac{", 0.9, 0.9, 10)
    boards = build_boards(tmp_path, deadline=None, now=NOW)
    write_site(boards, tmp_path / "site", title="Class", deadline=None, now=NOW)  # the plot label too
    page = (tmp_path / "site" / "index.html").read_text()
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "\\| $\\\\frac{" in (tmp_path / "site" / "leaderboard.md").read_text()


@pytest.fixture(scope="module")
def class_site(graded_class, tmp_path_factory):
    """The site of the real class graded in conftest."""
    result, _, _ = graded_class
    out = tmp_path_factory.mktemp("site")
    boards = build_boards(result.out, deadline=None, now=NOW)
    return result, write_site(boards, out, title="Test class", deadline=None, now=NOW)


def test_the_site_agrees_with_the_gradebook(class_site):
    result, index = class_site
    found = json.loads((index.parent / "leaderboard.json").read_text())
    (board,) = found["boards"]
    with open(result.gradebook, newline="") as handle:
        rows = list(csv.DictReader(handle))
    grades = [read_results(result.out / row["student"]) for row in rows]
    book = dict(zip(public_names(grades, pseudonym_key(result.out)), rows, strict=True))
    assert "syntax_error" not in book  # it has no submission.toml: shown under a pseudonym
    students = [entry for entry in board["entries"] if not entry["baseline"]]
    assert {entry["name"] for entry in students} == set(book)
    for entry in students:
        row = book[entry["name"]]
        assert entry["parameters"] == (int(row["parameters"]) if row["parameters"] else None)
        if entry["public_accuracy"] is not None:
            assert entry["public_accuracy"] == pytest.approx(float(row["public_accuracy"]), abs=1e-6)
    ranked = sorted((entry for entry in students if entry["rank"]), key=lambda entry: entry["rank"])
    assert [entry["name"] for entry in ranked] in (["alice", "erin"], ["erin", "alice"])
    assert ranked[0]["public_accuracy"] >= ranked[1]["public_accuracy"]
    assert any(entry["baseline"] for entry in board["entries"])
    plots = sorted(p.name for p in (index.parent / "plots").iterdir())
    assert plots == ["class_quick-accuracy-vs-parameters.png", "class_quick-training-curves.png"]
    assert all((index.parent / "plots" / p).read_bytes()[:4] == b"\x89PNG" for p in plots)


def test_the_page_sorts_in_headless_chromium_without_errors(class_site):
    """A real browser, no network: load the page from disk, sort by parameters both ways, keep a
    screenshot in artifacts/."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.common.by import By

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.fail("headless Chromium is needed: apt-get install chromium chromium-driver (nox does it)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1400"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    try:
        _, index = class_site
        browser.get(index.as_uri())
        table = browser.find_element(By.CSS_SELECTOR, "table.board")
        headings = [th.text for th in table.find_elements(By.TAG_NAME, "th")]
        column = headings.index("Parameters")

        def parameters() -> list[int]:
            cells = table.find_elements(By.CSS_SELECTOR, f"tbody td:nth-child({column + 1})")
            return [
                int(cell.get_attribute("data-value")) for cell in cells if cell.get_attribute("data-value")
            ]

        table.find_elements(By.TAG_NAME, "th")[column].click()
        ascending = parameters()
        assert ascending == sorted(ascending) and len(ascending) >= 3
        table.find_elements(By.TAG_NAME, "th")[column].click()
        assert parameters() == sorted(ascending, reverse=True)
        images = browser.find_elements(By.TAG_NAME, "img")
        assert images and all(
            browser.execute_script("return arguments[0].naturalWidth", i) > 0 for i in images
        )
        errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
        assert errors == []
        ARTIFACTS.mkdir(exist_ok=True)
        assert browser.save_screenshot(str(ARTIFACTS / "leaderboard.png"))
    finally:
        browser.quit()
