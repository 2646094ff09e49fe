# Returns ProcessingFailed for every record that contains FAIL and Ok (unchanged) for the others.
import base64


def lambda_handler(event, context):
    out = []
    for r in event["records"]:
        failed = b"FAIL" in base64.b64decode(r["data"])
        out.append({"recordId": r["recordId"], "result": "ProcessingFailed" if failed else "Ok", "data": r["data"]})
    return {"records": out}
