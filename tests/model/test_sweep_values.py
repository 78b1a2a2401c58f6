"""A sweep's values: role families, the sites an ``except:`` names, and what ``sweep: safe`` finds broken."""

from __future__ import annotations

import pytest

from harness.model.sweep import Site, SiteSelector, SiteVerdict, SweepCheck, SweepResult, in_verdict_order, role_family


@pytest.mark.parametrize(
    ("role", "family"),
    [
        ("main", "main"),
        ("main.3", "main.*"),
        ("main.12.1", "main.*.*"),
        ("main/t2", "main/t*"),
        ("main.4/t11", "main.*/t*"),
    ],
)
def test_a_role_belongs_to_the_family_of_its_numbers(role: str, family: str) -> None:
    assert role_family(role) == family


READ = Site("read", "main.*", "echo_server+0x1408 (echo)")
ACCEPT = Site("accept", "main", "echo_server+0x16c2 (main)")


def test_an_except_entry_names_a_site_by_call_role_and_a_part_of_its_place() -> None:
    assert SiteSelector.parse("read in main.*").matches(READ)
    assert SiteSelector.parse("read in main.* at (echo)").matches(READ)
    assert not SiteSelector.parse("read in main.* at handle").matches(READ)
    assert not SiteSelector.parse("read in main").matches(READ)
    assert str(SiteSelector.parse("  read in main.* at echo ")) == "read in main.* at echo"


@pytest.mark.parametrize("text", ["read", "read main.*", " in main", "read in ", "read in main at "])
def test_what_is_not_a_site_is_refused_with_the_way_to_write_one(text: str) -> None:
    with pytest.raises(ValueError, match="write CALL in ROLE"):
        SiteSelector.parse(text)


def _result(*verdicts: SiteVerdict) -> SweepResult:
    return SweepResult("server", "SIGCHLD", "first", in_verdict_order(list(verdicts)), len(verdicts) + 1, 1.0)


def test_sweep_safe_is_broken_by_each_broken_site_it_does_not_except() -> None:
    result = _result(SiteVerdict(ACCEPT, "retried", "again"), SiteVerdict(READ, "broken", "main.1 exited 1"))
    assert SweepCheck().judge(result) == ["read in main.* at echo_server+0x1408 (echo): broken: main.1 exited 1"]
    assert SweepCheck(excepted=(SiteSelector.parse("read in main.*"),)).judge(result) == []


def test_a_sweep_lists_its_broken_sites_first() -> None:
    result = _result(SiteVerdict(ACCEPT, "retried", "again"), SiteVerdict(READ, "broken", "exited 1"))
    assert [verdict.verdict for verdict in result.verdicts] == ["broken", "retried"]
    assert result.as_json()["sites"] == [
        {**READ.as_json(), "verdict": "broken", "evidence": "exited 1", "deliveries": 0},
        {**ACCEPT.as_json(), "verdict": "retried", "evidence": "again", "deliveries": 0},
    ]
