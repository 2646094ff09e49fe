# Sets logging up the way many Lambda examples do, at import time: basicConfig (a no-op in Lambda, whose
# runtime has given the root logger its handler already) and the level. Each log call must show once.
import logging

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger()
logger.setLevel(logging.INFO)


def lambda_handler(event, context):
    logger.info("transforming %d records", len(event["records"]))
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]} for r in event["records"]]}
