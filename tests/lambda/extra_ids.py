# Answers every record Ok (unchanged), and adds to each answer a record with an id that was not asked for
# and a second answer for the first record (result Dropped): ferry must ignore both and count them
# (unknown_ids, repeated_ids), and deliver every record.


def lambda_handler(event, context):
    records = [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]} for r in event["records"]]
    first = event["records"][0]
    records.append({"recordId": "not-asked-for", "result": "Ok", "data": first["data"]})
    records.append({"recordId": first["recordId"], "result": "Dropped", "data": first["data"]})
    return {"records": records}
