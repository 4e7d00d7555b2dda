"""JWZ threading: reference links build threads; subjects never merge them."""

from __future__ import annotations

from transforms.jwz_threads import ThreadMessage as M
from transforms.jwz_threads import thread_messages


def test_replies_join_their_root_even_when_a_middle_message_is_missing():
    got = thread_messages(
        [
            M("a", "<a>"),
            # b was never seen; c names it, and b's own parent a, in References
            M("c", "<c>", in_reply_to="<b>", references=("<a>", "<b>")),
            M("d", "<d>", in_reply_to="<c>"),  # In-Reply-To only
        ]
    )
    assert got == {"a": "<a>", "c": "<a>", "d": "<a>"}


def test_the_root_id_is_stable_when_the_root_arrives_later():
    early = thread_messages([M("y", "<y>", in_reply_to="<x>", references=("<x>",))])
    late = thread_messages([M("x", "<x>"), M("y", "<y>", in_reply_to="<x>", references=("<x>",))])
    assert early == {"y": "<x>"}
    assert late == {"x": "<x>", "y": "<x>"}


def test_same_subject_does_not_merge_and_a_changed_subject_stays():
    got = thread_messages(
        [
            M("a", "<a>", subject="Invoice"),
            M("b", "<b>", subject="Invoice"),  # unrelated, same subject
            M("c", "<c>", in_reply_to="<a>", references=("<a>",), subject="New banner request"),
        ]
    )
    assert got == {"a": "<a>", "b": "<b>", "c": "<a>"}


def test_reference_loops_and_self_references_do_not_hang():
    got = thread_messages(
        [
            M("a", "<a>", in_reply_to="<b>", references=("<b>",)),
            M("b", "<b>", in_reply_to="<a>", references=("<a>",)),
            M("s", "<s>", in_reply_to="<s>", references=("<s>",)),
        ]
    )
    assert got["a"] == got["b"]
    assert got["s"] == "<s>"


def test_missing_and_duplicated_message_ids_stay_apart():
    got = thread_messages([M("k1", None), M("k2", None), M("d1", "<d>"), M("d2", "<d>")])
    assert len(set(got.values())) == 4


def test_provider_thread_id_only_places_a_reply_that_lost_its_references():
    got = thread_messages(
        [
            M("a", "<a>", subject="Brief", provider_thread_id="T1"),
            M("b", "<b>", subject="Re: Brief", provider_thread_id="T1"),  # lost its headers
            M("c", "<c>", in_reply_to="<b>", subject="Re: Brief"),  # replies to b move with it
            M("n", "<n>", subject="Brief", provider_thread_id="T2"),  # not a reply: own thread
            M("z", "<z>", subject="Re: Other", provider_thread_id="T9"),  # no thread to join
            # the provider put two unrelated threads together: the hint is ambiguous
            M("p", "<p>", subject="Invoice", provider_thread_id="T3"),
            M("q", "<q>", subject="Invoice", provider_thread_id="T3"),
            M("r", "<r>", subject="Re: Invoice", provider_thread_id="T3"),
        ]
    )
    assert got == {
        **{"a": "<a>", "b": "<a>", "c": "<a>", "n": "<n>", "z": "<z>"},
        **{"p": "<p>", "q": "<q>", "r": "<r>"},
    }
