# Handlers for tests/integration/lambda_wrappers.test.mjs, one per behaviour of ferry-lambda-python.
import ctypes
import datetime
import logging
import os
import subprocess
import sys
import time

import firehose_records  # a neighbour: the handler's folder is on sys.path

print("wrapper_cases.py: loaded")  # at import time, before any request: must reach stderr too
invocations = 0


def context_fields(event, context):
    answer = firehose_records.passed(event)
    answer["context"] = {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
    time.sleep(0.2)
    answer["context"]["remaining_ms_later"] = context.get_remaining_time_in_millis()
    return answer


def counter(event, context):
    global invocations
    invocations += 1
    answer = firehose_records.passed(event)
    answer["invocations"] = invocations
    return answer


def noisy(event, context):
    """Writes to stdout every way a handler can; none of it may reach the protocol."""
    print("print to stdout")
    sys.stdout.write("sys.stdout.write without a newline")
    os.write(1, b"os.write to fd 1\n")
    os.system("echo from os.system")
    subprocess.run(["echo", "from subprocess"], check=True)
    os.system("cat")  # a subprocess that reads stdin must not swallow the next request
    libc = ctypes.CDLL(None)
    libc.printf(b"printf from C\n")
    libc.fflush(None)
    logging.getLogger().warning("a warning through logging")
    return firehose_records.passed(event)


def raises(event, context):
    raise ValueError("record 7 is not what I expected")


def marshal_error(event, context):
    return {"records": [], "when": datetime.datetime(2026, 12, 5)}


def not_a_number(event, context):
    return {"records": [], "ratio": float("nan")}


def exits(event, context):
    sys.exit(3)


not_callable = 42
