# Answers with something that is not a Firehose response when a record of the batch contains GARBAGE (the
# other batches pass): no_records returns an object without "records", not_object a JSON list. An answer that
# is not JSON at all cannot pass the wrapper: garbage_protocol.py speaks the protocol itself for that.
import base64


def _marked(event):
    return any(b"GARBAGE" in base64.b64decode(r["data"]) for r in event["records"])


def _passed(event):
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]} for r in event["records"]]}


def no_records(event, context):
    return {"status": "done", "count": len(event["records"])} if _marked(event) else _passed(event)


def not_object(event, context):
    return ["not", "a", "response"] if _marked(event) else _passed(event)
