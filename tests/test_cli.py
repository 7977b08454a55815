"""The cod360 command line: what a user sees when a step fails."""

from types import SimpleNamespace

from orchestration.cli import _root_cause


def test_a_failed_step_is_reported_by_the_error_it_wraps():
    inner = SimpleNamespace(message="InsufficientHistoryError: 198 resolved orders\n", cause=None)
    outer = SimpleNamespace(
        message='Error occurred while executing op "lead_score_model":\n', cause=inner
    )
    assert _root_cause(outer) == "InsufficientHistoryError: 198 resolved orders"
    assert _root_cause(inner) == "InsufficientHistoryError: 198 resolved orders"
