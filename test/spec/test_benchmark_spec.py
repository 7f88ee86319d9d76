"""The benchmark block: how patches merge, which cells a campaign has, what is refused when the spec loads."""
from __future__ import annotations

import copy

import pytest
from conftest import make_raw

from slm_acl.spec import SpecError, validate
from slm_acl.spec.benchmark import expand, merge


def test_patches_merge_objects_and_lists_of_objects_and_replace_the_rest():
    spec = {"agent": [{"algorithm": {"name": "PPO", "gamma": 0.99}, "net": {"hid_layers": [64, 64]}}],
            "curriculum": {"task_space": {"h": [0, 3], "s": [0, 6]}},
            "body": {"bodies": [{"agent": 0, "env": 0}, {"agent": 0, "env": 1}]}}
    out = merge(spec, {"agent": [{"algorithm": {"gamma": 0.9}, "net": {"hid_layers": [8]}}],
                       "curriculum": {"task_space": {"h": [-3, 3]}},
                       "body": {"bodies__replace": [{"agent": 0, "env": 1}]}})
    assert out["agent"][0]["algorithm"] == {"name": "PPO", "gamma": 0.9}  # merged key by key
    assert out["agent"][0]["net"]["hid_layers"] == [8]  # a list of numbers replaced, not merged
    assert out["curriculum"]["task_space"] == {"h": [-3, 3], "s": [0, 6]}
    assert out["body"]["bodies"] == [{"agent": 0, "env": 1}]  # __replace: the whole list
    assert spec["agent"][0]["algorithm"]["gamma"] == 0.99  # the spec itself is untouched
    with pytest.raises(SpecError, match=r"agent.*2 entries.*agent__replace"):
        merge(spec, {"agent": [{}, {}]}, "agent")


def campaign(**block) -> dict:
    raw = make_raw()
    raw["benchmark"] = {"seeds": 2, **block}
    return raw


def test_cells_are_the_product_of_the_axes_and_a_criterion_may_bring_its_own_students():
    raw = campaign(teacher={"Random": {"name": "Random"}, "RIAC": {"name": "RIAC"}},
                   criterion={"standard": {},
                              "light": {"curriculum": {"task_space": {"mass": [0.5, 1.0]}}},
                              "variety": {"students": {"short": {"env": [{"max_t": 20}]},
                                                       "long": {"env": [{"max_t": 80}]}}}},
                   student={"default": {}})
    cells = expand(validate(raw).raw, validate(raw).spec.benchmark)
    assert len(cells) == 2 * (1 + 1 + 2)
    assert [c.index for c in cells] == list(range(8))
    names = [c.name for c in cells]
    assert names[:4] == ["Random__standard__spec__default", "Random__light__spec__default",
                         "Random__variety__spec__short", "Random__variety__spec__long"]
    light = cells[1].raw
    assert light["curriculum"]["task_space"]["mass"] == [0.5, 1.0] and "benchmark" not in light
    assert cells[3].raw["env"][0]["max_t"] == 80 and cells[3].axes["student"] == "long"
    assert cells[5].raw["curriculum"]["teacher"] == {"name": "RIAC"}
    for cell in cells:
        validate(copy.deepcopy(cell.raw))  # every cell is a spec of its own


def test_the_block_is_checked_when_the_spec_loads():
    with pytest.raises(SpecError, match=r"benchmark.teacher.Fast.fit_rat.*fit_rate"):
        validate(campaign(teacher={"Fast": {"name": "ALP-GMM", "fit_rat": 10}}))
    with pytest.raises(SpecError, match=r"benchmark.teacher.X.*registered teacher"):
        validate(campaign(teacher={"X": {"fit_rate": 10}}))
    with pytest.raises(SpecError, match=r"curriculum.task_spac.*in the patch benchmark.criterion.typo"):
        validate(campaign(criterion={"typo": {"curriculum": {"task_spac": {"mass": [1, 2]}}}}))
    with pytest.raises(SpecError, match=r"in the patch benchmark.student.big"):
        validate(campaign(student={"big": {"env": [{"num_envs": 0}]}}))
    with pytest.raises(SpecError, match=r"benchmark.seeds"):
        validate(campaign(seeds=0))
    with pytest.raises(SpecError, match=r"benchmark.criterion.*at least one entry"):
        validate(campaign(criterion={}))
    both = campaign()
    both["search"] = {"curriculum": {"teacher": {"name__choice": ["Random"]}}}
    with pytest.raises(SpecError, match="search or a campaign, not both"):
        validate(both)


def test_a_cell_that_cannot_run_is_not_a_spec_error():
    """GoalGAN needs a success definition: the cell fails validation on its own, the campaign loads."""
    raw = campaign(teacher={"Random": {"name": "Random"}, "GoalGAN": {"name": "GoalGAN"}},
                   criterion={"standard": {}, "no_success": {"curriculum": {"success_return": None}}})
    run = validate(raw)
    cells = expand(run.raw, run.spec.benchmark)
    errors = {}
    for cell in cells:
        try:
            validate(copy.deepcopy(cell.raw))
        except SpecError as err:
            errors[cell.name] = str(err)
    assert list(errors) == ["GoalGAN__no_success__spec__spec"] and "success_return" in errors[list(errors)[0]]
