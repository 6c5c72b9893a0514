"""The synthetic datasets: one per task, tiny, deterministic, and read by Ultralytics' own loaders without a
complaint. (The recordings prove every release of the matrix trains on them.)"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from ultralytics_neptune.synthetic import CLASS_NAMES, KEYPOINTS, TASKS, make_dataset

LABELLED_TASKS = [task for task in TASKS if task != "classify"]


def contents(root: Path) -> dict:
    """{relative path: bytes} of every file under root but data.yaml (which names root)."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != "data.yaml"
    }


class Verified(NamedTuple):
    """What Ultralytics' ``verify_image_label`` returns for one image and its label file."""

    image: str
    labels: object  # (N, 5) array: class, box
    shape: tuple
    segments: list
    keypoints: object  # (N, K, 3) array, or None
    missing: int
    found: int
    empty: int
    corrupt: int
    message: str


def verified_labels(data_yaml: Path, task: str) -> list:
    """Ultralytics' own check of every image and its label file in the train split, as ``Verified``."""
    from ultralytics.data.utils import check_det_dataset, verify_image_label

    data = check_det_dataset(str(data_yaml))
    nkpt, ndim = data.get("kpt_shape", (0, 0))
    results = []
    for image in sorted(Path(data["train"]).glob("*.jpg")):
        label = image.parent.parent.parent / "labels" / "train" / f"{image.stem}.txt"
        arguments = (str(image), str(label), "", task == "pose", len(data["names"]), nkpt, ndim, False)
        results.append(Verified(*verify_image_label(arguments)))
    return results


@pytest.mark.parametrize("task", TASKS)
def test_the_same_arguments_write_the_same_dataset(task, tmp_path):
    make_dataset(task, tmp_path / "a")
    make_dataset(task, tmp_path / "b")
    assert contents(tmp_path / "a") == contents(tmp_path / "b")


@pytest.mark.parametrize("task", TASKS)
def test_another_seed_draws_other_images(task, tmp_path):
    make_dataset(task, tmp_path / "a", seed=0)
    make_dataset(task, tmp_path / "b", seed=1)
    assert contents(tmp_path / "a") != contents(tmp_path / "b")


@pytest.mark.parametrize("task", TASKS)
def test_the_dataset_is_a_few_small_images(task, tmp_path):
    make_dataset(task, tmp_path / "dataset", images=8)
    images = [path for path in (tmp_path / "dataset").rglob("*.jpg")]
    assert len(images) == 16  # 8 images, in the train and in the val split
    assert sum(path.stat().st_size for path in images) < 200_000


@pytest.mark.parametrize("task", LABELLED_TASKS)
def test_ultralytics_accepts_every_image_and_label(task, tmp_path):
    results = verified_labels(make_dataset(task, tmp_path / "dataset"), task)
    assert len(results) == 8
    for result in results:
        assert (result.found, result.missing, result.empty, result.corrupt, result.message) == (1, 0, 0, 0, "")
        assert result.shape == (128, 128) and 1 <= len(result.labels) <= 3


def test_segmentation_labels_are_polygons(tmp_path):
    for result in verified_labels(make_dataset("segment", tmp_path / "d"), "segment"):
        assert len(result.segments) == len(result.labels)
        assert all(segment.shape == (4, 2) for segment in result.segments)


def test_obb_labels_are_the_four_corners_of_each_box(tmp_path):
    for result in verified_labels(make_dataset("obb", tmp_path / "d"), "obb"):
        assert len(result.segments) == len(result.labels)
        assert all(segment.shape == (4, 2) for segment in result.segments)


def test_pose_labels_have_the_keypoints_of_kpt_shape(tmp_path):
    for result in verified_labels(make_dataset("pose", tmp_path / "d"), "pose"):
        assert result.keypoints.shape == (len(result.labels), KEYPOINTS, 3)
        assert (result.keypoints[..., 2] == 2).all()  # every corner visible


def test_detection_labels_are_boxes(tmp_path):
    for result in verified_labels(make_dataset("detect", tmp_path / "d"), "detect"):
        assert result.labels.shape[1] == 5 and result.segments == [] and result.keypoints is None


def test_classification_images_lie_in_a_folder_per_class(tmp_path):
    from ultralytics.data.utils import check_cls_dataset

    root = make_dataset("classify", tmp_path / "dataset")
    data = check_cls_dataset(root)
    assert list(data["names"].values()) == sorted(CLASS_NAMES)  # Ultralytics sorts the class folders
    for split in ("train", "val"):
        assert {name: len(list((root / split / name).glob("*.jpg"))) for name in CLASS_NAMES} == {"square": 4, "bar": 4}


def test_ultralytics_accepts_every_classification_image(tmp_path):
    from ultralytics.data.utils import verify_image

    root = make_dataset("classify", tmp_path / "dataset")
    for index, name in enumerate(sorted(CLASS_NAMES)):
        for image in sorted((root / "train" / name).glob("*.jpg")):
            (_, cls), found, corrupt, message = verify_image(((str(image), index), ""))
            assert (cls, found, corrupt, message) == (index, 1, 0, "")


def test_a_task_without_a_dataset_is_refused(tmp_path):
    with pytest.raises(ValueError, match="no synthetic dataset for task 'depth'; there are: detect, segment, pose"):
        make_dataset("depth", tmp_path)
