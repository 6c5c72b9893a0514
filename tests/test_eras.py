"""The era table: which release's callback logged what, as data."""

import pytest

from ultralytics_neptune.releases import ERAS, FIXED_PLOTS, era_of, has_upstream_module, parse_version


@pytest.mark.parametrize(
    ("version", "default_name", "plots"),
    [
        ("8.1.0", "YOLOv8", "fixed"),
        ("8.1.47", "YOLOv8", "fixed"),
        ("8.3.8", "YOLOv8", "fixed"),
        ("8.3.9", "Ultralytics", "fixed"),
        ("8.3.234", "Ultralytics", "fixed"),
        ("8.3.235", "Ultralytics", "registered"),
        ("8.4.131", "Ultralytics", "registered"),
        ("8.4.190", "Ultralytics", "registered"),
    ],
)
def test_each_release_gets_the_behaviour_of_its_era(version, default_name, plots):
    assert era_of(version)[1:] == (default_name, plots)


def test_parity_mode_behaves_as_the_installed_release(parity_logger):
    import ultralytics

    assert parity_logger.era == era_of(ultralytics.__version__)


def test_eras_are_listed_oldest_first():
    firsts = [era.first for era in ERAS]
    assert firsts == sorted(firsts)


def test_the_fixed_plot_list_names_the_curves_before_their_rename():
    assert {"F1_curve.png", "PR_curve.png", "P_curve.png", "R_curve.png"} <= set(FIXED_PLOTS)
    assert not any(name.startswith("Box") for name in FIXED_PLOTS)


@pytest.mark.parametrize(
    ("version", "parsed"), [("8.4.131", (8, 4, 131)), ("8.3.9.dev0", (8, 3, 9)), ("8.1.0rc1", (8, 1, 0))]
)
def test_versions_parse_to_their_release_numbers(version, parsed):
    assert parse_version(version) == parsed


def test_a_version_without_numbers_is_an_error():
    with pytest.raises(ValueError, match="not a release version"):
        parse_version("latest")


@pytest.mark.parametrize(("version", "has_module"), [("8.1.0", True), ("8.4.131", True), ("8.4.132", False)])
def test_the_callback_was_shipped_until_8_4_131(version, has_module):
    assert has_upstream_module(version) is has_module
