from __future__ import annotations

from harness.model.roles import ROOT_ROLE, RoleBook, parent_role, process_role


def test_processes_and_threads_are_numbered_per_creator_in_creation_order() -> None:
    book = RoleBook()
    assert book.child(ROOT_ROLE, thread=False) == "main.1"
    assert book.child(ROOT_ROLE, thread=True) == "main/t1"
    assert book.child(ROOT_ROLE, thread=False) == "main.2"
    assert book.child("main.1", thread=False) == "main.1.1"
    assert book.child("main.1", thread=True) == "main.1/t1"
    assert book.child(ROOT_ROLE, thread=True) == "main/t2"


def test_process_and_parent_of_a_role() -> None:
    assert process_role("main.1/t2") == "main.1"
    assert parent_role("main.1/t2") == "main.1"
    assert parent_role("main.1.3") == "main.1"
    assert parent_role("main") is None
