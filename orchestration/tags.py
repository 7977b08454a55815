"""Tags the orchestration reads back from its own assets."""

# On an asset that keeps its last good state when a blocking check upstream fails (the
# approved lead-score version stays when a candidate is refused). The activations'
# quality gate (defs/activations/gates.py) does not look past it: a refused retrain must
# not stop decisions made with the version that is still approved.
GATE_BOUNDARY_TAG = "cod360/gate_boundary"
