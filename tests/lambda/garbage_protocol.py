#!/usr/bin/env python3
# Speaks the lambda protocol itself (no wrapper): answers a line that is not JSON for a batch with a record
# that contains GARBAGE, and passes the other batches. Run as: python3 garbage_protocol.py
import base64
import json
import sys

for line in sys.stdin.buffer:
    event = json.loads(line)
    records = event["records"]
    if any(b"GARBAGE" in base64.b64decode(r["data"]) for r in records):
        sys.stdout.write("this is not json {\n")
    else:
        answer = {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]} for r in records]}
        sys.stdout.write(json.dumps(answer, separators=(",", ":")) + "\n")
    sys.stdout.flush()
