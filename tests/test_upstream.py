"""The upstream command: our callback written into an Ultralytics source tree works there as Ultralytics' own.

The tree is a copy of the installed ``ultralytics`` package (an unpacked wheel). Whatever runs in it runs in a
subprocess with ``PYTHONPATH=<tree>``, so the copy shadows the installed package; ``ultralytics_neptune`` is made
unimportable there, unless a test registers our package on purpose. The docs and upstream's settings test, which only
a git checkout of Ultralytics has, are in tests/test_upstream_checkout.py.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from run_checks import EPOCHS, MODULE_EVENTS, outside_pytest, problems_of

from ultralytics_neptune.offline import read_offline_runs
from ultralytics_neptune.synthetic import make_detection_dataset, offline_environment
from ultralytics_neptune.upstream.contribution import HEADER

MODULE = "ultralytics/utils/callbacks/neptune.py"
SETTINGS = "ultralytics/utils/__init__.py"
INTEGRATIONS = "ultralytics/utils/callbacks/base.py"
DOCS_PAGE = "docs/en/integrations/neptune.md"
TEST_FILE = "tests/test_neptune.py"
WRITTEN = {MODULE, SETTINGS, INTEGRATIONS, DOCS_PAGE, TEST_FILE}
UNWRITTEN = {"mkdocs.yml", "docs/en/integrations/index.md", "docs/en/quickstart.md", "tests/test_cli.py"}

BLOCK_OUR_PACKAGE = 'import sys; sys.modules["ultralytics_neptune"] = None  # a Python without our package\n'
YOLO = BLOCK_OUR_PACKAGE + 'from ultralytics.cfg import entrypoint; sys.argv = ["yolo", *sys.argv[1:]]; entrypoint()'
TRAINING = ["model=yolov8n.yaml", "imgsz=64", "batch=4", "workers=0", "device=cpu"]

# The ruff settings of Ultralytics' repository: the [tool.ruff] sections of its pyproject.toml (8.4.190 sdist), which
# lies next to the ultralytics package and tests/ (first-party for isort). The formatter's own options come on top.
ULTRALYTICS_PYPROJECT = """[tool.ruff]
line-length = 120
target-version = "py38"

[tool.ruff.format]
docstring-code-format = true

[tool.ruff.lint.pydocstyle]
convention = "google"
"""


# trees, environments, subprocesses


def copy_installed_ultralytics(folder: Path) -> Path:
    """Copy the installed ultralytics package into folder/ultralytics, as an unpacked wheel; return folder."""
    import ultralytics

    shutil.copytree(
        Path(ultralytics.__file__).parent, folder / "ultralytics", ignore=shutil.ignore_patterns("__pycache__")
    )
    return folder


def fingerprint(tree: Path) -> dict:
    """{relative path: sha256} of every file under tree (Python's bytecode caches aside)."""
    return {
        str(path.relative_to(tree)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(tree.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def environment(workdir: Path, tree: Path | None = None) -> dict:
    """A subprocess environment: offline Ultralytics with its settings under workdir, Neptune offline into
    workdir/.neptune, and, given a tree, the tree's ultralytics in place of the installed one."""
    env = {
        key: value
        for key, value in outside_pytest().items()
        if not key.startswith(("ULTRALYTICS_NEPTUNE", "NEPTUNE_")) and key != "PYTHONPATH"
    }
    env.update(offline_environment(workdir))
    env.update(
        NEPTUNE_MODE="offline",
        NEPTUNE_DATA_DIRECTORY=str(workdir / ".neptune"),
        # where a wheel installed our start-up hook, a settings file that does not exist keeps it out of the process
        ULTRALYTICS_NEPTUNE_SETTINGS=str(workdir / "no-settings.json"),
    )
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    return env


class Python:
    """Code running in a fresh Python, started now; its output is waited for when wanted."""

    def __init__(self, code: str, env: dict, cwd: Path, *arguments: str):
        # output goes to files, not pipes: a training that runs alongside must not block on a full pipe; they are
        # closed with the process, in stop()
        self.stdout, self.stderr = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")  # noqa: SIM115
        command = [sys.executable, "-c", textwrap.dedent(code), *arguments]
        self.process = subprocess.Popen(command, env=env, cwd=cwd, stdout=self.stdout, stderr=self.stderr)
        self.last_line = None

    def finish(self, timeout: int = 120) -> str:
        """Wait for the code to end, successfully; return the last line it printed (the neptune client prints its own
        lines at exit)."""
        if self.last_line is None:
            try:
                self.process.wait(timeout=timeout)
            finally:
                self.stop()
            stdout, stderr = self.output
            assert self.process.returncode == 0, stdout[-3000:] + stderr[-3000:]
            printed = [line for line in stdout.splitlines() if not line.startswith("[neptune]")]
            self.last_line = printed[-1] if printed else ""
        return self.last_line

    def stop(self) -> None:
        """End the code if it still runs (it timed out, or a test failed before waiting for it)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if not self.stdout.closed:
            self.output = [self.read_and_close(stream) for stream in (self.stdout, self.stderr)]

    @staticmethod
    def read_and_close(stream) -> str:
        stream.seek(0)
        text = stream.read()
        stream.close()
        return text


def python(code: str, env: dict, cwd: Path, *arguments: str, timeout: int = 120) -> str:
    """Run code in a fresh Python; return the last line it printed."""
    return Python(code, env, cwd, *arguments).finish(timeout)


def yolo(arguments: list, env: dict, cwd: Path) -> None:
    """Run a `yolo` command line in a Python that cannot import ultralytics_neptune."""
    python(YOLO, env, cwd, *arguments, timeout=600)


def upstream(*arguments: str) -> subprocess.CompletedProcess:
    """Run `ultralytics-neptune upstream` with arguments."""
    command = [sys.executable, "-m", "ultralytics_neptune", "upstream", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=outside_pytest())


def diff_targets(diff: str) -> set:
    """The paths a unified diff writes to (its +++ b/... lines)."""
    return {line[len("+++ b/") :] for line in diff.splitlines() if line.startswith("+++ b/")}


def release_of(tree: Path) -> str:
    text = (tree / "ultralytics" / "__init__.py").read_text()
    return text.split('__version__ = "', 1)[1].split('"', 1)[0]


# what two trainings log alike


TIMINGS = {"Configuration/Model/model/speed_PyTorch(ms)"}


def comparable(run) -> dict:
    """{field: [operation, ...]} of a run, without what differs between two trainings of the same arguments: the
    machine fields, timings, paths, file digests, series values (steps kept); uploads as file name and whether an
    image. Series values differ: in the tree, the client's `init_run` draws from Python's `random` after Ultralytics
    seeded it (as 8.4.131's module did), which changes the augmentations; our package keeps those draws out."""
    fields: dict = {}
    for op in run.trace.without_environment().operations:
        name = "/".join(op["path"])
        fields.setdefault(name, []).append(comparable_operation(name, op))
    return fields


def comparable_operation(name: str, op: dict) -> tuple:
    kind = op["type"]
    if kind == "LogFloats":
        return kind, tuple(point["step"] for point in op["values"])
    if kind == "UploadFile":
        file_name = Path(op["file_path"]).name if op.get("file_path") else None  # a figure is uploaded as a PNG
        return kind, file_name, "image" in op["content"]
    if kind.startswith("Assign"):
        value = op["value"]
        if name in TIMINGS:
            value = "<timing>"
        elif isinstance(value, str) and os.path.isabs(value):
            value = "<path>"
        return kind, value
    return kind, json.dumps({key: value for key, value in op.items() if key not in ("type", "path")}, sort_keys=True)


# shared trees


@pytest.fixture(scope="module")
def pristine_tree(tmp_path_factory):
    """A copy of the installed ultralytics, never written to."""
    return copy_installed_ultralytics(tmp_path_factory.mktemp("pristine"))


@pytest.fixture
def fresh_tree(pristine_tree, tmp_path):
    """A copy of the pristine tree that this test may spoil."""
    shutil.copytree(pristine_tree, tmp_path / "tree", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path / "tree"


@pytest.fixture(scope="module")
def patched(tmp_path_factory):
    """A tree that `ultralytics-neptune upstream` wrote into, and that command's result."""
    tree = copy_installed_ultralytics(tmp_path_factory.mktemp("patched"))
    result = upstream(str(tree))
    assert result.returncode == 0, result.stderr
    return tree, result


@pytest.fixture(scope="module")
def patched_tree(patched):
    return patched[0]


@pytest.fixture(scope="module")
def tree_with_our_module_alone(tmp_path_factory):
    """An unpatched tree with our drop-in module copied in as ultralytics/utils/callbacks/neptune.py, nothing else."""
    tree = copy_installed_ultralytics(tmp_path_factory.mktemp("module-alone"))
    shutil.copy(importlib.util.find_spec("ultralytics_neptune.utils.callbacks.neptune").origin, tree / MODULE)
    return tree


# shared trainings: the yolo command lines run here while the trainings they are compared with run alongside


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_detection_dataset(tmp_path_factory.mktemp("data"))


def background(python: Python, workdir: Path):
    """Yield a training running alongside, and its folder; end it if no test waited for it."""
    yield SimpleNamespace(python=python, workdir=workdir)
    python.stop()


@pytest.fixture(scope="module")
def reference_training(dataset, tmp_path_factory):
    """The training of `yolo train` with the key on, with the installed Ultralytics and our package registered in
    Python."""
    workdir = tmp_path_factory.mktemp("reference")
    code = """
        import sys
        from ultralytics import YOLO
        from ultralytics.cfg import smart_value
        from ultralytics.utils import SETTINGS
        from ultralytics_neptune import add_neptune_callbacks

        SETTINGS.update(runs_dir=sys.argv[1], sync=False)
        overrides = {key: smart_value(value) for key, value in (argument.split("=", 1) for argument in sys.argv[2:])}
        model = YOLO(overrides.pop("model"))
        add_neptune_callbacks(model)
        model.train(**overrides)  # the arguments of the yolo command line, read as it reads them
    """
    arguments = [f"data={dataset}", f"epochs={EPOCHS}", "plots=True", *TRAINING]
    yield from background(Python(code, environment(workdir), workdir, str(workdir / "runs"), *arguments), workdir)


@pytest.fixture(scope="module")
def key_off_training(patched_tree, dataset, tmp_path_factory):
    """`yolo train` in the patched tree with the settings as upstream leaves them, without our package."""
    workdir = tmp_path_factory.mktemp("key-off")
    # project: a new settings file would put runs next to a git checkout that holds the tree, if one did
    arguments = ["train", f"data={dataset}", "epochs=1", "plots=False", f"project={workdir / 'runs'}", *TRAINING]
    yield from background(Python(YOLO, environment(workdir, patched_tree), workdir, *arguments), workdir)


@pytest.fixture(scope="module")
def double_training(patched_tree, dataset, tmp_path_factory):
    """A training in the patched tree with the key on and our package registered as well."""
    workdir = tmp_path_factory.mktemp("double")
    code = """
        import json, sys
        from ultralytics.utils import SETTINGS

        SETTINGS.update(neptune=True, runs_dir=sys.argv[2], sync=False)
        from ultralytics import YOLO
        from ultralytics.utils.callbacks import neptune as builtin
        from ultralytics_neptune import add_neptune_callbacks

        model = YOLO("yolov8n.yaml")
        add_neptune_callbacks(model)
        model.train(data=sys.argv[1], epochs=1, imgsz=64, batch=4, workers=0, device="cpu", plots=False)
        print(json.dumps({"builtin registered": bool(builtin.callbacks)}))
    """
    env = environment(workdir, patched_tree)
    yield from background(Python(code, env, workdir, str(dataset), str(workdir / "runs")), workdir)


@pytest.fixture(scope="module")
def yolo_run(patched_tree, dataset, tmp_path_factory, reference_training, key_off_training, double_training):
    """The one Neptune run of `yolo settings neptune=True` then `yolo train` in the patched tree, without our
    package (the other trainings, started first, run meanwhile)."""
    workdir = tmp_path_factory.mktemp("yolo")
    env = environment(workdir, patched_tree)
    yolo(["settings", "neptune=True", f"runs_dir={workdir / 'runs'}", "sync=False"], env, workdir)
    yolo(["train", f"data={dataset}", f"epochs={EPOCHS}", "plots=True", *TRAINING], env, workdir)
    runs = read_offline_runs(workdir / ".neptune")
    assert len(runs) == 1, f"expected one offline run, found {len(runs)}"
    return runs[0]


@pytest.fixture(scope="module")
def reference_run(reference_training):
    """The one Neptune run of the reference training."""
    reference_training.python.finish(timeout=600)
    (run,) = read_offline_runs(reference_training.workdir / ".neptune")
    return run


# trainings in the patched tree


def test_yolo_train_with_the_key_on_logs_one_complete_run(yolo_run, patched_tree):
    assert yolo_run.problems == []
    assert problems_of(yolo_run, release_of(patched_tree)) == []


def test_yolo_train_with_the_key_on_logs_the_fields_steps_and_settings_our_package_logs(yolo_run, reference_run):
    assert comparable(yolo_run) == comparable(reference_run)


def test_yolo_train_with_the_settings_as_upstream_leaves_them_logs_nothing(key_off_training):
    key_off_training.python.finish(timeout=600)
    assert list((key_off_training.workdir / "runs").rglob("best.pt"))  # it did train
    assert not (key_off_training.workdir / ".neptune").exists()


def test_with_the_key_on_and_our_package_registered_a_training_starts_one_run(double_training):
    report = json.loads(double_training.python.finish(timeout=600))
    assert report == {"builtin registered": True}
    assert len(read_offline_runs(double_training.workdir / ".neptune")) == 1


# the drop-in module alone

MODULE_REPORT = f"""
{BLOCK_OUR_PACKAGE}
import importlib, json
from ultralytics.utils import SETTINGS

events = {{}}
for setting in (True, False):
    dict.__setitem__(SETTINGS, "neptune", setting)  # in memory: this release's settings refuse unknown keys
    from ultralytics.utils.callbacks import neptune

    events[f"key {{'on' if setting else 'off'}}"] = sorted(importlib.reload(neptune).callbacks)
print(json.dumps({{"file": neptune.__file__, **events}}))
"""


def test_the_drop_in_module_alone_registers_its_events_outside_pytest_whatever_the_key(
    tree_with_our_module_alone, tmp_path
):
    """As every integration module of 8.4.190, it leaves the settings key to add_integration_callbacks."""
    report = json.loads(python(MODULE_REPORT, environment(tmp_path, tree_with_our_module_alone), tmp_path))
    events = sorted(MODULE_EVENTS)
    assert report == {"file": str(tree_with_our_module_alone / MODULE), "key on": events, "key off": events}


def test_the_drop_in_module_alone_registers_nothing_under_pytest(tree_with_our_module_alone, tmp_path):
    env = environment(tmp_path, tree_with_our_module_alone)
    env["PYTEST_CURRENT_TEST"] = "tests/test_neptune.py::test_neptune (call)"
    report = json.loads(python(MODULE_REPORT, env, tmp_path))
    assert report == {"file": str(tree_with_our_module_alone / MODULE), "key on": [], "key off": []}


# what the command writes


def test_the_command_module_imports_nothing_heavy(tmp_path):
    imported = python(
        """
        import json, sys
        import ultralytics_neptune.upstream

        print(json.dumps(sorted({name.split(".")[0] for name in sys.modules} & {"ultralytics", "torch", "neptune"})))
        """,
        outside_pytest(),
        tmp_path,
    )
    assert json.loads(imported) == []


def test_the_command_prints_one_diff_naming_every_file_it_writes(patched):
    _, result = patched
    assert diff_targets(result.stdout) == WRITTEN
    assert result.stdout.count("--- /dev/null\n") == 3  # new: the module, the docs page and the test file


def test_the_command_lists_what_a_wheel_tree_could_not_take(patched):
    _, result = patched
    prefix = "ultralytics-neptune upstream: unwritten: "
    unwritten = [line[len(prefix) :] for line in result.stderr.splitlines() if line.startswith(prefix)]
    assert {line.split(":", 1)[0] for line in unwritten} == UNWRITTEN


def test_the_printed_diff_applied_to_a_fresh_tree_gives_the_written_tree(patched, fresh_tree):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    tree, result = patched
    subprocess.run(["git", "apply", "-"], input=result.stdout, text=True, cwd=fresh_tree, check=True, timeout=60)
    assert fingerprint(fresh_tree) == fingerprint(tree)


def test_the_module_is_ours_under_ultralytics_header(patched_tree):
    ours = Path(importlib.util.find_spec("ultralytics_neptune.utils.callbacks.neptune").origin).read_text("utf-8")
    assert (patched_tree / MODULE).read_text("utf-8") == HEADER + ours


def test_the_test_file_is_ours_under_ultralytics_header(patched_tree):
    from ultralytics_neptune.upstream.contribution import TEMPLATES

    ours = (TEMPLATES / "test_neptune.py").read_text("utf-8")
    assert (patched_tree / TEST_FILE).read_text("utf-8") == HEADER + ours


def test_the_settings_key_is_off_by_default_and_follows_mlflow(patched_tree):
    lines = (patched_tree / SETTINGS).read_text("utf-8").splitlines()
    mlflow = next(i for i, line in enumerate(lines) if line.strip().startswith('"mlflow":'))
    assert lines[mlflow + 1] == " " * 12 + '"neptune": False,  # Neptune logging'


def schema_version(tree: Path) -> tuple:
    text = (tree / SETTINGS).read_text("utf-8")
    return tuple(map(int, text.split('file=SETTINGS_FILE, version="', 1)[1].split('"', 1)[0].split(".")))


def test_the_settings_schema_version_is_bumped_once(patched_tree, pristine_tree):
    before = schema_version(pristine_tree)
    assert schema_version(patched_tree) == (*before[:2], before[2] + 1)


def test_trainers_load_neptune_between_mlflow_and_raytune(patched_tree):
    text = (patched_tree / INTEGRATIONS).read_text("utf-8")
    assert 'for key in ("clearml", "comet", "dvc", "mlflow", "neptune", "raytune", "tensorboard", "wandb"):' in text
    assert "ClearML, Comet, DVC, MLflow, Neptune, Ray Tune, TensorBoard, and Weights & Biases" in " ".join(text.split())
    assert max(len(line) for line in text.splitlines()) <= 120


def test_a_tree_before_8_4_177_is_refused_as_the_module_checks_no_settings_key(fresh_tree):
    """From 8.4.132 to 8.4.176 add_integration_callbacks imported every integration, each checking its own key."""
    init = fresh_tree / "ultralytics" / "__init__.py"
    text = init.read_text("utf-8")
    init.write_text(re.sub(r'__version__ = "[^"]+"', '__version__ = "8.4.176"', text), "utf-8")
    result = upstream(str(fresh_tree), "--check")
    assert result.returncode == 2
    assert "older than 8.4.177" in result.stderr


def test_the_docs_page_says_how_to_install_enable_and_log_offline(patched_tree):
    page = (patched_tree / DOCS_PAGE).read_text("utf-8")
    assert page.startswith("---\ncomments: true\ndescription: ")
    for needed in ("keywords:", "pip install ultralytics neptune", "yolo settings neptune=True"):
        assert needed in page
    assert "NEPTUNE_MODE=offline" in page
    for namespace in ("Configuration/Hyperparameters", "Configuration/Model", "Mosaic/", "Validation/", "Plots/"):
        assert namespace in page
    assert "## FAQ" in page


# --check


def test_check_prints_the_diff_and_leaves_the_tree_byte_identical(fresh_tree):
    before = fingerprint(fresh_tree)
    result = upstream(str(fresh_tree), "--check")
    assert result.returncode == 0, result.stderr
    assert diff_targets(result.stdout) == WRITTEN
    assert fingerprint(fresh_tree) == before


# refusals


def add_neptune_module(tree: Path) -> None:
    (tree / MODULE).write_text("callbacks = {}\n")


def add_neptune_setting(tree: Path) -> None:
    settings = tree / SETTINGS
    mlflow_line = '            "mlflow": True,  # MLflow integration\n'
    settings.write_text(settings.read_text().replace(mlflow_line, mlflow_line + '            "neptune": True,\n'))


def make_release_8_4_131(tree: Path) -> None:
    package = tree / "ultralytics" / "__init__.py"
    package.write_text(package.read_text().replace(f'"{release_of(tree)}"', '"8.4.131"', 1))


def remove_the_integration_loop(tree: Path) -> None:
    base = tree / INTEGRATIONS
    base.write_text(base.read_text().replace("for key in (", "for key in sorted(", 1))


def remove_the_mlflow_setting(tree: Path) -> None:
    settings = tree / SETTINGS
    settings.write_text(settings.read_text().replace('"mlflow": True,', '"ml_flow": True,', 1))


def empty_the_tree(tree: Path) -> None:
    shutil.rmtree(tree / "ultralytics")


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (add_neptune_module, "already has a Neptune callback"),
        (add_neptune_setting, 'already has a "neptune" settings key'),
        (make_release_8_4_131, "older than 8.4.132"),
        (remove_the_integration_loop, f"unrecognised layout: {INTEGRATIONS}"),
        (remove_the_mlflow_setting, f"unrecognised layout: {SETTINGS}"),
        (empty_the_tree, "holds no Ultralytics source tree"),
    ],
)
def test_a_tree_that_cannot_take_the_callback_is_refused_and_left_unchanged(fresh_tree, spoil, reason):
    spoil(fresh_tree)
    before = fingerprint(fresh_tree)
    result = upstream(str(fresh_tree))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert reason in result.stderr
    assert fingerprint(fresh_tree) == before


# Ultralytics' conventions: its formatter, the module's size and constructs, the written test against mutations

FORMATTER_CHECK = [
    "check",
    "--fix",
    "--unsafe-fixes",
    "--extend-select=F,I,D,UP,RUF,FA",
    "--target-version=py38",
    "--ignore=BLE001,D100,D104,D203,D205,D212,D213,D401,D406,D407,D413,RUF001,RUF002,RUF012,S110",
]
NEW_PYTHON = [MODULE, TEST_FILE]
EDITED_PYTHON = [SETTINGS, INTEGRATIONS]
FORBIDDEN = {
    "a thread": r"\bthreading\b|\bThread\(",
    "an exit handler": r"\batexit\b",
    "an edit of sys.modules": r"\bsys\.modules\b",
    "a warning filter": r"\bcatch_warnings\b|\bfilterwarnings\b|\bsimplefilter\b",
    "the client's fork condition": r"_forking_cond",
    "random": r"^\s*(?:import|from) random\b",
    "a module __getattr__": r"\b__getattr__\b",
    "a private attribute of another object": r"\b(?!self\b)[A-Za-z_]\w*\._[a-z]\w*",
}


def formatted(tree: Path, workdir: Path, paths: list | None = None) -> Path:
    """A copy of tree, under the [tool.ruff] of Ultralytics' pyproject.toml (8.4.190), after Ultralytics' formatter
    steps (ultralytics-actions 0.5.19) on paths (by default the Python files the contribution writes)."""
    copy = workdir / "formatted"
    shutil.copytree(tree, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "pyproject.toml").write_text(ULTRALYTICS_PYPROJECT)
    files = [path for path in (paths or [*NEW_PYTHON, *EDITED_PYTHON]) if (copy / path).is_file()]
    for command in (
        [sys.executable, "-m", "ruff", *FORMATTER_CHECK, "--no-cache", *files],
        [sys.executable, "-m", "ruff", "format", "--line-length=120", "--no-cache", *files],
        [sys.executable, "-m", "actions.format_python_docstrings", *files],
    ):
        result = subprocess.run(command, cwd=copy, capture_output=True, text=True, timeout=120)
        assert "No module named" not in result.stderr, result.stderr  # ruff and ultralytics-actions: the test extra
    return copy


def changes(before: str, after: str) -> list:
    """The changes from before to after, as (old lines, new lines) pairs."""
    a, b = before.splitlines(), after.splitlines()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return [(a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"]


@pytest.fixture(scope="module")
def formatter_runs(patched_tree, pristine_tree, tmp_path_factory):
    """(patched, its formatted copy, pristine, its formatted copy)."""
    patched_copy = formatted(patched_tree, tmp_path_factory.mktemp("fmt-patched"))
    pristine_copy = formatted(pristine_tree, tmp_path_factory.mktemp("fmt-pristine"))
    return patched_tree, patched_copy, pristine_tree, pristine_copy


@pytest.mark.parametrize("path", NEW_PYTHON)
def test_ultralytics_formatter_changes_nothing_in_a_written_file(formatter_runs, path):
    patched, patched_copy, _, _ = formatter_runs
    assert changes((patched / path).read_text("utf-8"), (patched_copy / path).read_text("utf-8")) == []


@pytest.mark.parametrize("path", EDITED_PYTHON)
def test_ultralytics_formatter_changes_an_edited_file_only_as_it_changes_the_original(formatter_runs, path):
    patched, patched_copy, pristine, pristine_copy = formatter_runs
    ours = changes((patched / path).read_text("utf-8"), (patched_copy / path).read_text("utf-8"))
    theirs = changes((pristine / path).read_text("utf-8"), (pristine_copy / path).read_text("utf-8"))
    assert ours == theirs


def test_ultralytics_formatter_steps_do_change_unformatted_code(tmp_path):
    """The formatter test above can fail: the same steps rewrite a module that is not formatted their way."""
    tree = tmp_path / "tree"
    (tree / "ultralytics/utils/callbacks").mkdir(parents=True)
    source = "import os, sys\ndef f(x):\n  return x\n"
    (tree / MODULE).write_text(source)
    assert (formatted(tree, tmp_path) / MODULE).read_text() != source


def test_the_written_module_holds_none_of_the_forbidden_constructs(patched_tree):
    text = (patched_tree / MODULE).read_text("utf-8")
    found = {what for what, pattern in FORBIDDEN.items() if re.search(pattern, text, re.MULTILINE)}
    assert found == set()


def test_the_forbidden_constructs_are_found_where_they_are():
    samples = {
        "a thread": "import threading\n",
        "an exit handler": "atexit.register(stop)\n",
        "an edit of sys.modules": 'sys.modules["rfc3987_syntax"] = None\n',
        "a warning filter": "with warnings.catch_warnings():\n",
        "the client's fork condition": "run._forking_cond.notify_all()\n",
        "random": "import random\n",
        "a module __getattr__": "def __getattr__(name):\n",
        "a private attribute of another object": "started._state = 2\n",
    }
    for what, sample in samples.items():
        assert re.search(FORBIDDEN[what], sample, re.MULTILINE), what


def test_the_written_module_has_at_most_200_lines(patched_tree):
    assert len((patched_tree / MODULE).read_text("utf-8").splitlines()) <= 200


def tree_environment(tree: Path, workdir: Path) -> dict:
    """The environment of a Python that runs tree's ultralytics and cannot import ultralytics_neptune."""
    blocker = workdir / "blocked" / "ultralytics_neptune"
    blocker.mkdir(parents=True, exist_ok=True)
    (blocker / "__init__.py").write_text('raise ImportError("ultralytics_neptune is not importable here")\n')
    env = environment(workdir, tree)
    env["PYTHONPATH"] = os.pathsep.join([str(blocker.parent), str(tree)])
    return env


IN_TREE_PYTEST = ["-p", "no:ultralytics_neptune", "-p", "no:cacheprovider", "-q"]


def pytest_in_tree(tree: Path, workdir: Path, *arguments: str) -> subprocess.CompletedProcess:
    """Run `pytest tests/test_neptune.py` inside tree, in a Python where ultralytics_neptune cannot be imported."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", *IN_TREE_PYTEST, TEST_FILE, *arguments],
        env=tree_environment(tree, workdir),
        cwd=tree,
        capture_output=True,
        text=True,
        timeout=300,
    )


LEFT_BEHIND = f"""
import json, sys, threading

import matplotlib.pyplot as plt
import pytest
from ultralytics.utils import LOGGER
from ultralytics.utils.callbacks import neptune as module

threads, handlers = set(threading.enumerate()), list(LOGGER.handlers)
attributes, logger = dict(vars(module)), dict(vars(LOGGER))
code = pytest.main([*{IN_TREE_PYTEST!r}, {TEST_FILE!r}])
changed = lambda before, now: sorted(k for k in set(before) | set(now) if before.get(k, now) is not now.get(k, before))
print(json.dumps({{
    "exit code": int(code),
    "new threads": sorted(thread.name for thread in set(threading.enumerate()) - threads),
    "logger handlers changed": LOGGER.handlers != handlers,
    "logger attributes changed": changed(logger, dict(vars(LOGGER))),
    "module attributes changed": changed(attributes, dict(vars(module))),
    "figures open": len(plt.get_fignums()),
}}))
"""


def test_the_written_test_file_leaves_no_thread_handler_patch_or_figure_behind(patched_tree, tmp_path):
    report = json.loads(python(LEFT_BEHIND, tree_environment(patched_tree, tmp_path), patched_tree))
    assert report == {
        "exit code": 0,
        "new threads": [],
        "logger handlers changed": False,
        "logger attributes changed": [],
        "module attributes changed": [],
        "figures open": 0,
    }


def test_the_written_test_file_passes_under_pytest_inside_the_tree(patched_tree, tmp_path):
    result = pytest_in_tree(patched_tree, tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout
    assert "skipped" not in result.stdout


MUTATIONS = {
    "no weights upload": (
        'run[f"weights/{trainer.args.name or trainer.args.task}/{trainer.best.name}"].upload(File(str(trainer.best)))',
        "pass",
    ),
    "no stop at teardown": ("run.stop(seconds=STOP_TIMEOUT)", "pass"),
    "a figure left open": ("plt.close(fig)", "pass"),
    "one loss key dropped": (
        'trainer.label_loss_items(trainer.tloss, prefix="train")',
        'dict(list(trainer.label_loss_items(trainer.tloss, prefix="train").items())[1:])',
    ),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_the_written_test_fails_on_a_mutation_of_the_module(patched_tree, tmp_path, mutation):
    tree = tmp_path / "tree"
    shutil.copytree(patched_tree, tree, ignore=shutil.ignore_patterns("__pycache__"))
    old, new = MUTATIONS[mutation]
    module = (tree / MODULE).read_text("utf-8")
    assert module.count(old) == 1, f"the mutation {mutation!r} no longer applies to the module"
    (tree / MODULE).write_text(module.replace(old, new))
    result = pytest_in_tree(tree, tmp_path, "-x")
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]  # 1: tests ran and failed


def shape(trace) -> dict:
    """{field: sorted operations} of a trace without values: kinds, steps, uploaded file names."""
    fields: dict = {}
    for op in trace.without_environment().operations:
        if op["type"] == "LogFloats":
            item = (op["type"], tuple(point["step"] for point in op["values"]))
        elif op["type"] == "UploadFile":
            item = (op["type"], Path(op["file_path"]).name if op.get("file_path") else None)
        else:
            item = (op["type"],)
        fields.setdefault("/".join(op["path"]), []).append(item)
    return {name: sorted(items) for name, items in fields.items()}


def test_yolo_train_with_the_key_on_logs_a_run_shaped_as_the_golden_trace_of_the_release(yolo_run, patched_tree):
    from ultralytics_neptune.trace import Trace
    from ultralytics_neptune.verification.recording import golden_trace_path

    golden = Trace.load(golden_trace_path(f"ultralytics-{release_of(patched_tree)}"))
    assert shape(yolo_run.trace) == shape(golden)
