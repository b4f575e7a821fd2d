"""Results of several predicting threads reach the sinks in the stream's order."""

from __future__ import annotations

import threading

from modelyard.stream.frames import InOrder


def test_results_put_out_of_order_come_out_in_ticket_order_passing_over_skipped_tickets() -> None:
    results: InOrder[str] = InOrder(capacity=4)
    stop = threading.Event()
    assert results.put(2, "third", stop) and results.skip(1, stop)
    assert results.get(0.0) is None  # ticket 0 is not in yet: nothing may overtake it
    assert results.put(0, "first", stop)
    assert [results.get(0.0), results.get(0.0), results.get(0.0)] == ["first", "third", None]
    assert len(results) == 0


def test_a_ticket_too_far_ahead_waits_for_room_and_gives_up_when_stopped() -> None:
    results: InOrder[str] = InOrder(capacity=2)
    stop = threading.Event()
    stop.set()
    assert results.put(1, "second", stop)
    assert not results.put(2, "third", stop)  # two tickets held at most: 0 and 1
    assert len(results) == 1
