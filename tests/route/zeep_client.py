#!/usr/bin/env python3
"""An independent SOAP client for the route tests: zeep (PyPI), driven only by the WSDL and XSDs
that `shep route` serves. It calls SendMessage once with the right password and once with a wrong
one, and prints one JSON line: the status code and sessionId of the answer, and the errorCode and
errorMessage parsed from the fault's SendMessageFault1_SendMessageFault detail.

usage: zeep_client.py WSDL_URL SERVICE_ID SENDER_ID PASSWORD
"""
import datetime
import json
import sys

import zeep
from zeep.exceptions import Fault

wsdl, service_id, sender_id, password = sys.argv[1:5]
client = zeep.Client(wsdl)


def request(pw):
    return {
        "requestInfo": {
            "messageId": "zeep-1",
            "serviceId": service_id,
            "messageDate": datetime.datetime(2026, 12, 3, 12, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=5))),
            "sender": {"senderId": sender_id, "password": pw},
        },
        "requestData": {"data": "hello from zeep"},
    }


out = {}
resp = client.service.SendMessage(request=request(password))
out["status"] = resp.responseInfo.status.code
out["sessionId"] = resp.responseInfo.sessionId
try:
    client.service.SendMessage(request=request("not-the-password"))
    out["fault"] = None
except Fault as f:
    ns = "{http://bip.bee.kz/SyncChannel/v10/Types}"
    detail = f.detail.find(ns + "SendMessageFault1_SendMessageFault")
    out["fault"] = {
        "errorCode": detail.findtext("errorCode"),
        "errorMessage": detail.findtext("errorMessage"),
        "faultstring": f.message,
    }
print(json.dumps(out))
