# Returns every record unchanged (Ok): the benchmark's handler, so the figures measure the wrapper and the
# protocol, not a transformation.


def lambda_handler(event, context):
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]} for r in event["records"]]}
