# Exits the process (status 1, no answer) on every 100th invocation it receives, counted from its start (so a
# restarted process answers the retried batch). It says so on stderr first, so a test can count the crashes
# in ferry's log. FERRY_TEST_CRASH_EVERY changes the period.
import os
import sys

EVERY = int(os.environ.get("FERRY_TEST_CRASH_EVERY", "100"))
invocations = 0


def lambda_handler(event, context):
    global invocations
    invocations += 1
    if invocations % EVERY == 0:
        sys.stderr.write(f"crash_every_100th: exiting at invocation {invocations}\n")
        sys.stderr.flush()
        os._exit(1)
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]} for r in event["records"]]}
