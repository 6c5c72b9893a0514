"""The pull request's description: who needs the integration, what is fixed against 8.4.131, how it was tested.

Every figure says where it comes from. MEASURED holds the runs of ``probe.py`` (this folder) on 2026-12-03: a real
tiny detect training (yolov8n.yaml, 3 epochs, 64 px, 8 synthetic images, plots on, CPU, Neptune 1.14.0.post2
offline), once with Ultralytics 8.4.131 and its own module, once in an unpacked 8.4.190 that ``upstream`` wrote into;
each without and with every upload failing as on a full disk (OSError 28).
"""

from __future__ import annotations

import re

from ultralytics_neptune.upstream.contribution import MODULE, SETTINGS_TEST

MEASURED = {
    "8.4.131": {
        "figures": 8,
        "state": "`started`: never stopped",
        "full disk": "crashed at the end of epoch 2 of 3 (`OSError: [Errno 28] No space left on device` from the "
        "first upload); no final evaluation, no weights uploaded",
    },
    "this PR": {
        "figures": 0,
        "state": "`stopped`, at `teardown`",
        "full disk": "completed all 3 epochs and the final evaluation; one warning (one per kind of failure: here "
        "uploads) and one line at `teardown` counting the 14 failed calls",
    },
}
RESULTS = "ultralytics-neptune's benchmarks/RESULTS.md (2026-12-02, `tox -e bench`)"


def pr_body(contribution) -> str:
    """Return the pull request's description (markdown) of a contribution.

    Args:
        contribution (Contribution): What ``upstream`` writes into the tree (``contribution.plan``).

    Returns:
        (str): The description.
    """
    module = next(change.new for change in contribution.changes if change.path == MODULE)
    files = "\n".join(f"- `{change.path}`{' (new)' if change.old is None else ''}" for change in contribution.changes)
    unwritten = "".join(f"\n- {line}" for line in contribution.unwritten)
    old, new = MEASURED["8.4.131"], MEASURED["this PR"]
    found = re.search(r"^STOP_TIMEOUT = (\d+)", module, re.MULTILINE)
    timeout = f"{found[1]} s" if found else "a bounded time"
    version = contribution.schema_version
    settings_test = (
        f"`{SETTINGS_TEST}::test_settings_migration` expects the new version, and that a file of the old schema with\n"
        '`"neptune": True` keeps it.\n'
        if any(change.path == SETTINGS_TEST for change in contribution.changes)
        else ""
    )
    return f"""## Re-add the Neptune integration, off by default, for self-hosted servers and offline runs

PR #25972 removed the Neptune callback in 8.4.132 as a dead dependency once Neptune's hosted service closed
(2026-03-05). Neptune itself did not go away for everyone:

- **Self-hosted Neptune servers.** Teams running Neptune 2.x on their own infrastructure (it speaks the `neptune` 1.x
  client this module uses) and Neptune 3.x deployments (Kubernetes, often air-gapped) still track experiments there.
  Since 8.4.132 an Ultralytics training logs nothing to them.
- **Offline runs.** `NEPTUNE_MODE=offline` needs no server, no token and no network: each run is written under
  `.neptune/` and can be uploaded later with `neptune sync` (for example from an air-gapped cluster).
- **Neptune-compatible services** that accept the client's protocol.

The key is **off by default** (`"neptune": False`, like `tensorboard` and `wandb`): nobody gets Neptune logging, or
imports the client, without `yolo settings neptune=True`. Since 8.4.177 `add_integration_callbacks` imports the module
only when the key is on.

### Changes

{files}

The API reference page that #25972 removed (`docs/en/reference/utils/callbacks/neptune.md`) is generated from the
module by `docs/build_reference.py`, as for every module.

The module is {len(module.splitlines())} lines with docstrings (8.4.131's: 126; in 8.4.190 tensorboard 134, mlflow
150, clearml 151, dvc 194, wb 198). It keeps 8.4.131's shape and logs exactly what 8.4.131 logged (same namespaces,
steps and values), plus three hardenings that change nothing logged:

- each logging call is guarded: one warning per kind of failure, a count at `teardown`, and the training goes on;
- the matplotlib figure each plot is drawn on is closed after upload;
- the run is stopped at `teardown` (as comet, wb and platform finish theirs), waiting at most `STOP_TIMEOUT` = {timeout}
  for data still being sent, so a server that never answers cannot hold the end of training; what is left stays in
  the client's disk queue for `neptune sync`.

No threads, no `atexit`, no edits of `sys.modules`, of the client or of warning filters.

### Settings

`"neptune": False` joins the defaults and the settings schema version is bumped to `{version}`, as Ultralytics does
with every change of its keys. What `SettingsManager` then does with an existing settings file (read in
`_validate_settings`): the file's version differs, so it warns once ("Ultralytics settings updated to the latest
schema. Existing values were preserved where possible."), keeps every value whose key is still a setting and whose
type matches the default, fills the other keys with their defaults and saves the file under the new version. So:

- a file written by 8.4.132 - 8.4.190 (no `neptune` key) gets `"neptune": False`: nothing changes for those users;
- a file last written by 8.4.131 or earlier, where `"neptune": True` was the default, keeps `True`: those users get
  the Neptune logging they had, if the `neptune` package is still installed;
- as with every migration, an `api_key` that is not a Platform key is dropped with a warning (files of 8.4.132 on
  hold only Platform keys already).

{settings_test}
### Fixed against 8.4.131

| | 8.4.131 | this PR | source |
| --- | --- | --- | --- |
| matplotlib figures left open after a 3-epoch detect training | {old["figures"]} | {new["figures"]} | probe |
| Neptune run after `train()` | {old["state"]} | {new["state"]} | probe |
| every upload fails (full disk) | {old["full disk"]} | {new["full disk"]} | probe |

probe: a real tiny detect training, measured 2026-12-03 (yolov8n.yaml, 3 epochs at 64 px, 8 synthetic images,
plots on, CPU, `neptune` 1.14.0.post2 offline), with Ultralytics 8.4.131 and in an unpacked 8.4.190 with this change.
For scale, from {RESULTS}:
with 8.4.131's module the same training held +581 MB more memory after `train()` than without Neptune (8 rounds,
median), its 8 open figures among it.

### How it was tested

- `pytest tests/test_neptune.py`: every event with a mocked run (`unittest.mock`, `monkeypatch`): the run started
  with its hyperparameters, losses and learning rates at step epoch + 1, the mosaics at the second epoch, the model
  summary, the validation images, train end's plots (figures closed) and weights, the stop at `teardown`, one warning
  per kind of failure; no test leaves a thread, a handler or a patched module behind.
- Those tests fail on each of these mutations of the module: no weights upload, no stop at `teardown`, a figure left
  open, one loss key dropped.
- On an unpacked 8.4.190 with this change: `yolo settings neptune=True` and a real 3-epoch `yolo train` with
  `NEPTUNE_MODE=offline` log one run with every field, step and upload of the reference trace 8.4.131's module logs
  for that release; with the key off, no run. Value for value, recorded trainings of every task replayed through this
  module give the reference traces of 8.4.131's module (ultralytics-neptune's parity tests).
- As with 8.4.131's module, the client's `init_run` draws from Python's `random` after the trainer seeded it, so a
  training with Neptune on gets other augmentations than the same training without it (unchanged behaviour, noted
  for reviewers).
- `ruff check --fix --unsafe-fixes ...`, `ruff format --line-length=120` and
  `ultralytics-actions-format-python-docstrings` (ultralytics-actions 0.5.19) change nothing in the new files, and
  nothing in the edited ones beyond what they change in the originals.

### Try it offline

```bash
pip install neptune
yolo settings neptune=True
NEPTUNE_MODE=offline yolo train model=yolo26n.pt data=coco8.yaml epochs=3 imgsz=320
ls .neptune/offline  # one run; upload it later with `neptune sync` to a self-hosted server
yolo settings neptune=False
```
{_unwritten_section(unwritten)}"""


def _unwritten_section(unwritten: str) -> str:
    """The section listing what the tree had no file for, or nothing."""
    return f"\n### Not in this change (the tree had no file for it)\n{unwritten}\n" if unwritten else ""
