# A module beside wrapper_cases.py that it imports, as a handler imports its neighbours from Lambda's task
# root: the wrapper puts the handler's folder on sys.path.


def passed(event):
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]} for r in event["records"]]}
