"""Checks one function's answer to one events/ file against tests/sample-events.json.

    python3 local/check_sample.py FILE ANSWER_JSON      (FILE relative to events/)

Prints one line, "ok   FILE: ..." or "FAIL FILE: ...". Used by local/invoke-samples.sh
(cargo lambda invoke) and local/sam-local-invoke.sh (sam local invoke), so both judge alike.
"""

import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def verdict(file, answer):
    with open(os.path.join(ROOT, "tests", "sample-events.json")) as f:
        expected = json.load(f).get(file)
    if expected is None:
        return f"FAIL {file}: not listed in tests/sample-events.json"
    if not isinstance(answer, dict):
        return f"FAIL {file}: the answer is not a JSON object: {answer!r}"
    if "authorized" in expected:
        got = (answer.get("isAuthorized"), (answer.get("context") or {}).get("caller"))
        want = (expected["authorized"], expected.get("caller"))
        ok = got == want
        detail = f"isAuthorized {got[0]}, caller {got[1]}" + ("" if ok else f", expected {want}")
    elif "answer" in expected:
        got = {k: answer.get(k) for k in expected["answer"]}
        ok = got == expected["answer"]
        detail = f"answer {got}" + ("" if ok else f", expected {expected['answer']}")
    elif "status" in expected:
        got = answer.get("statusCode")
        ok = got == expected["status"]
        detail = f"status {got}" + ("" if ok else f", expected {expected['status']}")
    else:
        failures = answer.get("batchItemFailures")
        ok = failures == [] and expected.get("failures") == 0
        detail = f"batchItemFailures {failures}"
    return ("ok   " if ok else "FAIL ") + f"{file}: {detail}"


if __name__ == "__main__":
    file, text = sys.argv[1], sys.argv[2]
    try:
        answer = json.loads(text)
    except ValueError:
        print(f"FAIL {file}: the answer is not JSON: {text[:200]!r}")
        sys.exit()
    print(verdict(file, answer))
