#!/usr/bin/env python3
"""A transformation function speaking ferry's lambda protocol raw (plugins/lambda/PROTOCOL.md), for the unit tests of
plugins/lambda: one JSON event per stdin line, one JSON answer per stdout line. The first argument picks the
behaviour (MODES, and the ones main() handles itself). Invocations are counted from 1 over the process's life
(a restarted process counts again). Hangs are sed_passthrough.sh's: python3 may start too slowly on a loaded
machine for a test's short timeout."""
import base64
import json
import os
import sys
import time


def ok(record, data):
    return {"recordId": record["recordId"], "result": "Ok", "data": base64.b64encode(data).decode()}


def records_of(event, fn):
    return {"records": [fn(i, r, base64.b64decode(r["data"])) for i, r in enumerate(event["records"])]}


def passthrough(event, n):
    return records_of(event, lambda i, r, d: ok(r, d))


def upper(event, n):
    # With the newline a Firehose function adds; ferry takes it off.
    return records_of(event, lambda i, r, d: ok(r, d.upper() + b"\n"))


def drop_odd(event, n):
    return records_of(event, lambda i, r, d: ok(r, d) if i % 2 == 0 else
                      {"recordId": r["recordId"], "result": "Dropped"})


def fail_some(event, n):
    # Records whose text contains "bad" fail.
    return records_of(event, lambda i, r, d: ok(r, d) if b"bad" not in d else
                      {"recordId": r["recordId"], "result": "ProcessingFailed", "errorMessage": "bad record"})


def omit(event, n):
    # Leaves out every third record.
    answer = records_of(event, lambda i, r, d: ok(r, d))
    answer["records"] = [r for i, r in enumerate(answer["records"]) if i % 3 != 2]
    return answer


def unknown_repeated(event, n):
    answer = records_of(event, lambda i, r, d: ok(r, d))
    first = answer["records"][0]
    answer["records"].append({"recordId": "no-such-id", "result": "Ok", "data": first["data"]})
    answer["records"].append({"recordId": first["recordId"], "result": "Dropped"})
    return answer


def bad_base64(event, n):
    return records_of(event, lambda i, r, d: ok(r, d) if i != 0 else
                      {"recordId": r["recordId"], "result": "Ok", "data": "not base64!"})


def odd_results(event, n):
    return records_of(event, lambda i, r, d: {"recordId": r["recordId"], "result": ["Ok", "Maybe", "Dropped"][i % 3],
                                              "data": base64.b64encode(d).decode()})


def huge(event, n):
    return records_of(event, lambda i, r, d: ok(r, b"x" * (2 << 20)))


MODES = {
    "passthrough": passthrough,
    "upper": upper,
    "drop_odd": drop_odd,
    "fail_some": fail_some,
    "omit": omit,
    "unknown_repeated": unknown_repeated,
    "bad_base64": bad_base64,
    "odd_results": odd_results,
    "huge": huge,
}


def main():
    mode = sys.argv[1]
    if mode == "exit_now":
        sys.exit(1)
    print(f"started {mode}", file=sys.stderr, flush=True)
    n = 0
    for line in sys.stdin:
        n += 1
        event = json.loads(line)
        if mode == "crash_nth":
            # The Nth invocation of each process crashes it.
            if n == int(sys.argv[2]):
                os._exit(3)
            answer = passthrough(event, n)
        elif mode == "slow":
            time.sleep(int(sys.argv[2]) / 1000)
            answer = upper(event, n)
        elif mode == "stray":
            # An extra line after the first answer: out of step with the requests.
            answer = passthrough(event, n)
            if n == 1:
                sys.stdout.write(json.dumps(answer) + "\n")
        elif mode == "not_json":
            sys.stdout.write("this is not json\n")
            sys.stdout.flush()
            continue
        elif mode == "error_shape":
            answer = {"errorType": "ValueError", "errorMessage": "boom", "stackTrace": []}
        elif mode == "env":
            keys = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "FERRY_LAMBDA_TIMEOUT_MS", "EXTRA"]
            text = json.dumps({"pid": os.getpid(), "env": {k: os.environ.get(k) for k in keys}, "event": {
                k: v for k, v in event.items() if k != "records"}}).encode()
            answer = records_of(event, lambda i, r, d: ok(r, text))
        else:
            answer = MODES[mode](event, n)
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
