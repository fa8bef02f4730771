#!/usr/bin/env python3
"""A service provider behind the gateway, for the route tests: the provider side of the sync
channel's SendMessage (SOAP, WIRE.md) and of the App.1 REST envelope, written independently of the
route with nothing but the Python standard library.

What it does is chosen by the payload's <command> element (SOAP) or "command" field (REST):
  echo (default)  answer SCSS001, reporting what arrived (sessionId, whether a password did,
                  the x-shep-message-id header, the Authorization header)
  sleep:N         wait N seconds, then answer like echo
  fault           answer a SOAP fault with a SendMessageFault1_SendMessageFault (REST: an error)
  http500         answer HTTP 500 with a plain-text body
  garbage         answer HTTP 200 with HTML
Every request received is appended, as one JSON line, to the file given as the first argument.
It listens on 127.0.0.1 and prints "PORT <n>" once ready.
"""
import json
import re
import sys
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = sys.argv[1] if len(sys.argv) > 1 else None
LOCK = threading.Lock()
TYPES = "http://bip.bee.kz/SyncChannel/v10/Types"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"


def local(tag):
    return tag.rsplit("}", 1)[-1]


def find(el, name):
    for e in el.iter():
        if local(e.tag) == name:
            return e
    return None


def soap_answer(message_id, session_id, data):
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<S:Envelope xmlns:S="{SOAP}"><S:Body><ns2:SendMessageResponse xmlns:ns2="{TYPES}">'
        f"<response><responseInfo><messageId>{message_id}</messageId>"
        f"<responseDate>2026-12-03T12:00:01.000+05:00</responseDate>"
        f"<status><code>SCSS001</code><message>Message has been processed successfully</message></status>"
        + (f"<sessionId>{session_id}</sessionId>" if session_id else "")
        + f"</responseInfo><responseData><data>{data}</data></responseData></response>"
        f"</ns2:SendMessageResponse></S:Body></S:Envelope>"
    )


SOAP_FAULT = (
    f'<?xml version="1.0" encoding="UTF-8"?><S:Envelope xmlns:S="{SOAP}"><S:Body><S:Fault>'
    "<faultcode>S:Server</faultcode><faultstring>person not found</faultstring><detail>"
    f'<ns2:SendMessageFault1_SendMessageFault xmlns:ns2="{TYPES}"><errorCode>GBD_PERSON_NOT_FOUND</errorCode>'
    "<errorMessage>no person with this IIN</errorMessage><errorDate>2026-12-03T12:00:01.000+05:00</errorDate>"
    "</ns2:SendMessageFault1_SendMessageFault></detail></S:Fault></S:Body></S:Envelope>"
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, ctype, body):
        b = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n).decode()
        seen = {
            "path": self.path,
            "body": raw,
            "messageIdHeader": self.headers.get("x-shep-message-id"),
            "authorization": self.headers.get("Authorization"),
            "soapAction": self.headers.get("SOAPAction"),
        }
        if LOG:
            with LOCK, open(LOG, "a") as f:
                f.write(json.dumps(seen) + "\n")
        if self.path.startswith("/rest"):
            return self.rest(raw, seen)
        try:
            root = ET.fromstring(raw)
        except ET.ParseError as e:
            return self.reply(400, "text/plain", f"bad xml: {e}")
        cmd_el = find(root, "command")
        cmd = cmd_el.text if cmd_el is not None and cmd_el.text else "echo"
        mid = find(root, "messageId")
        sid = find(root, "sessionId")
        report = (
            f"<sessionId>{sid.text if sid is not None else ''}</sessionId>"
            f"<passwordSeen>{'true' if find(root, 'password') is not None else 'false'}</passwordSeen>"
            f"<gatewayMessageId>{seen['messageIdHeader'] or ''}</gatewayMessageId>"
            f"<authorization>{seen['authorization'] or ''}</authorization>"
        )
        if cmd.startswith("sleep:"):
            time.sleep(float(cmd.split(":", 1)[1]))
        if cmd == "fault":
            return self.reply(500, "text/xml; charset=utf-8", SOAP_FAULT)
        if cmd == "http500":
            return self.reply(500, "text/plain", "internal error")
        if cmd == "garbage":
            return self.reply(200, "text/html", "<html><body>maintenance page</body></html>")
        # The provider does not stamp a sessionId: the gateway does.
        self.reply(200, "text/xml; charset=utf-8", soap_answer(mid.text if mid is not None else "", None, report))

    def rest(self, raw, seen):
        try:
            req = json.loads(raw)["request"]
        except Exception as e:  # noqa: BLE001
            return self.reply(400, "text/plain", f"bad json: {e}")
        info = req["requestInfo"]
        data = req.get("requestData", {}).get("data", {})
        cmd = data.get("command", "echo") if isinstance(data, dict) else "echo"
        if cmd.startswith("sleep:"):
            time.sleep(float(cmd.split(":", 1)[1]))
        if cmd == "fault":
            return self.reply(500, "application/json", json.dumps({"error": {"errorCode": "GBD_PERSON_NOT_FOUND", "errorMessage": "no person with this IIN"}}))
        if cmd == "http500":
            return self.reply(500, "text/plain", "internal error")
        answer = {
            "response": {
                "responseInfo": {
                    "messageId": info.get("messageId"),
                    "responseDate": "2026-12-03T12:00:01.000+05:00",
                    "status": {"code": "SCSS001", "message": "Message has been processed successfully"},
                },
                "responseData": {"data": {
                    "sessionId": info.get("sessionId"),
                    "passwordSeen": "password" in info.get("sender", {}),
                    "gatewayMessageId": seen["messageIdHeader"],
                    "echo": data,
                }},
            }
        }
        self.reply(200, "application/json", json.dumps(answer))


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print(f"PORT {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
