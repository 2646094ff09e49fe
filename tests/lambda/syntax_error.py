# A handler file that does not compile: the wrapper must refuse it at start (exit 2, one line on stderr).
def lambda_handler(event, context)
    return event
