"""The anonymity rules of 360° reviews, pure: the threshold of anonymous groups, what is shown of each."""

import pytest

from kpi_core.review_results import RatedAnswer, group_results, performance_score

COMPETENCIES = ("quality", "teamwork")


def peers(count: int) -> list[RatedAnswer]:
    return [
        RatedAnswer("peer", {"quality": 2 + index % 3, "teamwork": 4}, comment=f"comment {count - index}")
        for index in range(count)
    ]


@pytest.mark.parametrize(
    ("answered", "shown"),
    [pytest.param(2, False, id="two-peers-hidden"), pytest.param(3, True, id="three-peers-shown")],
)
def test_peer_ratings_are_shown_as_averages_only_from_three_answers(answered, shown):
    groups = group_results(peers(answered), asked={"peer": 4}, competencies=COMPETENCIES)

    peer = groups["peer"]
    assert (peer.asked, peer.answered, peer.shown) == (4, answered, shown)
    if shown:
        assert peer.averages == {"quality": 3.0, "teamwork": 4.0}
        assert peer.comments == ("comment 1", "comment 2", "comment 3")  # sorted, not in answer order
    else:
        assert peer.averages == {} and peer.comments == () and peer.mean is None


def test_subordinates_follow_the_same_threshold_and_self_and_superior_are_shown_as_given():
    answers = [
        RatedAnswer("self", {"quality": 5, "teamwork": 5}, comment="I did well"),
        RatedAnswer("superior", {"quality": 3, "teamwork": 4}),
        RatedAnswer("subordinate", {"quality": 1, "teamwork": 1}),
        RatedAnswer("subordinate", {"quality": 2, "teamwork": 2}, comment="only two of us"),
    ]
    groups = group_results(answers, asked={"self": 1, "superior": 1, "subordinate": 2}, competencies=COMPETENCIES)

    assert list(groups) == ["self", "superior", "subordinate"]
    assert groups["self"].averages == {"quality": 5, "teamwork": 5} and groups["self"].comments == ("I did well",)
    assert groups["superior"].mean == 3.5
    assert not groups["subordinate"].shown and groups["subordinate"].comments == ()


def test_a_threshold_below_three_is_refused():
    with pytest.raises(ValueError, match="at least 3"):
        group_results([], asked={}, competencies=COMPETENCIES, min_raters=2)


def test_the_score_weighs_the_shown_groups_and_scales_up_the_others():
    answers = [RatedAnswer("superior", {"quality": 5, "teamwork": 3}), *peers(2)]
    groups = group_results(answers, asked={"superior": 1, "peer": 2}, competencies=COMPETENCIES)
    weights = {"self": 0, "superior": 50, "peer": 25, "subordinate": 25}

    # peers are hidden (2 answers): the superior's mean of 4 alone is the score, (4 - 1) / 4
    assert performance_score(groups, weights=weights) == 75.0
    groups = group_results([*answers, *peers(3)[2:]], asked={"superior": 1, "peer": 3}, competencies=COMPETENCIES)
    # the peers' mean is (3 + 4) / 2 = 3.5, weighed 25 against the superior's 4 at 50: 3.8333 -> 70.8
    assert performance_score(groups, weights=weights) == 70.8


def test_no_score_without_a_shown_weighted_group():
    groups = group_results([RatedAnswer("self", {"quality": 5})], asked={"self": 1}, competencies=COMPETENCIES)
    assert performance_score(groups, weights={"self": 0, "superior": 50}) is None
