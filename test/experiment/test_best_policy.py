"""How a session's best policy is judged: one score per session, over all its bodies."""
from __future__ import annotations

from slm_acl.experiment.best_policy import BestPolicy


def summary(mastered: float, mean_return: float) -> dict[str, float]:
    return {"mastered": mastered, "mean_return": mean_return, "std_return": 0.0, "n_tasks": 4}


def test_a_multi_body_session_is_judged_by_the_mean_over_its_bodies_once_each_has_an_evaluation():
    best = BestPolicy(["a", "b"], by_mastered=True)
    best.observe("a", 100, summary(50.0, -10.0))
    assert not best.improved()  # body b has no evaluation yet
    best.observe("b", 100, summary(10.0, -30.0))
    assert best.improved() and best.record["score"] == 30.0 and best.record["mean_return"] == -20.0
    best.observe("a", 200, summary(20.0, 0.0))  # a drops by 30 ...
    best.observe("b", 200, summary(60.0, 0.0))  # ... b gains 50: the mean, 40, beats 30
    assert best.improved() and best.record["score"] == 40.0 and best.record["frame"] == 200
    assert best.record["bodies"]["a"] == {"frame": 200, "mastered": 20.0, "mean_return": 0.0}


def test_ties_in_mastered_go_to_the_higher_return_and_exact_ties_keep_the_earlier():
    best = BestPolicy(["a"], by_mastered=True)
    best.observe("a", 100, summary(0.0, -300.0))
    assert best.improved()
    best.observe("a", 200, summary(0.0, -250.0))
    assert best.improved() and best.record["frame"] == 200
    best.observe("a", 300, summary(0.0, -250.0))
    assert not best.improved() and best.record["frame"] == 200
    best.observe("a", 400, summary(25.0, -900.0))
    assert best.improved() and best.record["frame"] == 400


def test_bodies_without_a_success_threshold_are_judged_by_mean_return_and_nan_never_wins():
    best = BestPolicy(["a"], by_mastered=False)
    best.observe("a", 100, summary(float("nan"), -5.0))
    assert best.improved() and best.record["metric"] == "mean_return" and best.record["score"] == -5.0
    best.observe("a", 200, summary(float("nan"), float("nan")))
    assert not best.improved()


def test_the_record_survives_a_checkpoint_and_an_old_checkpoint_has_none():
    best = BestPolicy(["a"], by_mastered=True)
    best.observe("a", 100, summary(10.0, -5.0))
    best.improved()
    again = BestPolicy(["a"], by_mastered=True)
    again.load_state_dict(best.state_dict())
    assert again.record == best.record and again.latest == best.latest
    again.observe("a", 200, summary(10.0, -5.0))
    assert not again.improved()
    fresh = BestPolicy(["a"], by_mastered=True)
    fresh.load_state_dict(None)  # a checkpoint written before best policies were kept
    assert fresh.record is None
