"""What every differential script prints: outcomes of futures, one RESULT line of JSON."""
import json


def outcome(fut):
    """``["ok", value]`` or ``["error", exception type name]``."""
    try:
        return ["ok", fut.result()]
    except Exception as e:
        return ["error", type(e).__name__]


def report(out):
    print("RESULT " + json.dumps(out))
