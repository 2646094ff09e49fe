# The Python transformation of AWS's blog post on Firehose data transformation, written out for the tests:
# each record is a JSON object; the function adds "timestamp" (now, epoch seconds) and returns the object as
# one line (a trailing newline, as functions feeding Athena do). Result Ok for every record.
import base64
import json
import time


def lambda_handler(event, context):
    output = []
    for record in event["records"]:
        payload = json.loads(base64.b64decode(record["data"]))
        payload["timestamp"] = time.time()
        line = json.dumps(payload) + "\n"
        output.append(
            {
                "recordId": record["recordId"],
                "result": "Ok",
                "data": base64.b64encode(line.encode("utf-8")).decode("ascii"),
            }
        )
    print(f"Successfully processed {len(event['records'])} records.")
    return {"records": output}
