# Never answers: on_marker when a record of the batch contains HANG (the others pass), always for every batch.
import base64
import time


def _hang():
    while True:
        time.sleep(3600)


def on_marker(event, context):
    if any(b"HANG" in base64.b64decode(r["data"]) for r in event["records"]):
        _hang()
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]} for r in event["records"]]}


def always(event, context):
    _hang()
