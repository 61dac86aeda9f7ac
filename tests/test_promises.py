"""What presets promise: each bound read against an evaluation's results, and each promise the README states."""

from pathlib import Path

import pytest

from gan_core.spec import promises, registry
from gan_core.spec.config import preset
from gan_core.spec.promises import Bound

README = Path(__file__).resolve().parents[1] / "README.md"


def test_a_bound_holds_against_a_number_or_another_measure_of_the_same_results():
    results = {"modes_covered": 8, "translation_l1": 0.04, "identity_mapping_l1": 0.9}
    assert Bound("modes_covered", ">=", 8).kept_by(results)
    assert not Bound("modes_covered", ">=", 9).kept_by(results)
    relative = Bound("translation_l1", "<=", "identity_mapping_l1", 0.1)
    assert relative.bound_in(results) == pytest.approx(0.09) and relative.kept_by(results)
    assert not relative.kept_by({**results, "translation_l1": 0.1})
    assert relative.describe() == "translation_l1 <= 0.1 x identity_mapping_l1"
    with pytest.raises(ValueError, match="relation is '>=' or '<=', not '=='"):
        Bound("modes_covered", "==", 8)


@pytest.mark.parametrize("preset_name", list(promises.PROMISES))
def test_every_promise_is_a_presets_within_its_steps_and_the_readme_states_it(preset_name):
    promise = promises.promise_of(preset_name)
    assert preset_name in registry.presets()
    assert 0 < promise.steps <= preset(preset_name).steps, "the preset trains at least as far as its promise"
    [row] = [line for line in README.read_text().splitlines() if line.startswith(f"| `{preset_name}`")]
    assert promise.sentence() in row, row
