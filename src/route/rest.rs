//! The REST channel (App.1): the sync envelope as JSON on `/rest`.
//!
//! `{"request": {"requestInfo": {messageId, correlationId?, serviceId, messageDate, routeId?,
//! sender{senderId, password}, properties?, sessionId?}, "requestData": {"data": ...}}}` →
//! `{"response": {"responseInfo": {...}, "responseData": {...}}}`. Errors are
//! `{"error": {errorCode, errorMessage, errorData, errorDate, subError?, sessionId?}}`, the same
//! fields as the SOAP channel's `ErrorInfo`. The payload (`requestData`, `responseData`) is passed
//! through unparsed.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::fault::{ErrorCode, Refusal, SubError};
use super::soap::{Password, RequestInfo, check_info, clip};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    #[serde(borrow)]
    request: Request<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Request<'a> {
    request_info: Info,
    #[serde(borrow)]
    request_data: &'a RawValue,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Info {
    message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    correlation_id: Option<String>,
    service_id: String,
    message_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    route_id: Option<String>,
    sender: Sender,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_id: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sender {
    sender_id: String,
    /// Never forwarded.
    #[serde(default, skip_serializing)]
    password: Option<String>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Property {
    key: String,
    #[serde(default)]
    value: String,
}

/// A parsed REST request.
pub struct RestRequest<'a> {
    /// The fields, as the SOAP channel has them.
    pub info: RequestInfo,
    raw: Info,
    data: &'a RawValue,
}

impl std::fmt::Debug for RestRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestRequest")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl<'a> RestRequest<'a> {
    /// Reads and checks a REST envelope; a refusal names the JSON path that is wrong.
    pub fn parse(body: &'a str) -> Result<RestRequest<'a>, Refusal> {
        let de = &mut serde_json::Deserializer::from_str(body);
        let env: Envelope<'a> = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            Refusal::new(
                ErrorCode::MalformedMessage,
                format!("the App.1 REST envelope is not valid at '{path}': {inner}"),
            )
        })?;
        let raw = env.request.request_info;
        let info = RequestInfo {
            message_id: raw.message_id.trim().to_string(),
            correlation_id: raw.correlation_id.clone().filter(|s| !s.is_empty()),
            service_id: raw.service_id.trim().to_string(),
            message_date: raw.message_date.trim().to_string(),
            route_id: raw.route_id.clone().filter(|s| !s.is_empty()),
            sender_id: raw.sender.sender_id.trim().to_string(),
            password: raw.sender.password.clone().map(Password),
            session_id: raw.session_id.clone(),
            properties: raw
                .properties
                .iter()
                .map(|p| (p.key.clone(), p.value.clone()))
                .collect(),
        };
        check_info(&info, "request.requestInfo")
            .map_err(|m| Refusal::new(ErrorCode::MalformedMessage, m))?;
        Ok(RestRequest {
            info,
            raw,
            data: env.request.request_data,
        })
    }

    /// The request as the backend receives it: the password removed, `sessionId` set.
    pub fn forward(&mut self, session_id: &str) -> String {
        self.raw.session_id = Some(session_id.to_string());
        self.without_password()
    }

    /// The request without the password (also the journal's digest of a refused message). The
    /// payload is written back byte for byte.
    pub fn without_password(&self) -> String {
        serde_json::to_string(&Out {
            request: OutRequest {
                request_info: &self.raw,
                request_data: self.data,
            },
        })
        .unwrap_or_default()
    }
}

#[derive(Serialize)]
struct Out<'a> {
    request: OutRequest<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutRequest<'a> {
    request_info: &'a Info,
    request_data: &'a RawValue,
}

#[derive(Serialize)]
struct OutAnswer<'a> {
    response: OutAnswerInner<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OutAnswerInner<'a> {
    response_info: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    response: AnswerInner,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnswerInner {
    response_info: Map<String, Value>,
    #[serde(default)]
    response_data: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorFields,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorFields {
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    error_data: Option<String>,
    #[serde(default)]
    error_date: Option<String>,
}

/// What a REST backend answered.
#[derive(Debug, PartialEq, Eq)]
pub enum RestAnswer {
    /// A response envelope, relayed with the gateway's `sessionId`.
    Response {
        /// `responseInfo.status.code`, when given.
        status: Option<String>,
        /// The answer as relayed.
        body: String,
    },
    /// An error envelope or a non-JSON error.
    Fault(SubError),
}

/// Reads a REST backend's answer with its HTTP status.
pub fn read_answer(status: u16, body: &str, session_id: &str) -> Result<RestAnswer, String> {
    if !(200..300).contains(&status) {
        if let Ok(e) = serde_json::from_str::<ErrorBody>(body) {
            return Ok(RestAnswer::Fault(SubError {
                code: e
                    .error
                    .error_code
                    .unwrap_or_else(|| format!("HTTP_{status}")),
                message: e.error.error_message.unwrap_or_default(),
                data: e.error.error_data,
                date: e.error.error_date,
            }));
        }
        return Ok(RestAnswer::Fault(http_sub_error(status)));
    }
    let mut a: Answer = serde_json::from_str(body)
        .map_err(|e| format!("the backend's answer is not an App.1 REST response envelope: {e}"))?;
    let code = a
        .response
        .response_info
        .get("status")
        .and_then(|s| s.get("code"))
        .and_then(Value::as_str)
        .map(str::to_string);
    a.response
        .response_info
        .insert("sessionId".into(), Value::String(session_id.into()));
    let out = serde_json::to_string(&OutAnswer {
        response: OutAnswerInner {
            response_info: &a.response.response_info,
            response_data: a.response.response_data.as_deref(),
        },
    })
    .map_err(|e| e.to_string())?;
    Ok(RestAnswer::Response {
        status: code,
        body: out,
    })
}

/// The sub-error of a backend that answered an HTTP error without an error envelope.
pub fn http_sub_error(status: u16) -> SubError {
    let reason = hyper::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    SubError {
        code: format!("HTTP_{status}"),
        message: clip(&format!("the backend answered HTTP {status} {reason}")),
        data: None,
        date: None,
    }
}

/// The JSON error of a refusal.
pub fn error_body(
    r: &Refusal,
    date: &str,
    gateway_message_id: &str,
    session_id: Option<&str>,
) -> String {
    let mut e = json!({
        "errorCode": r.code.as_str(),
        "errorMessage": r.message,
        "errorData": format!("gatewayMessageId={gateway_message_id}"),
        "errorDate": date,
    });
    if let Some(s) = &r.sub_error {
        let mut sub = json!({"errorCode": s.code, "errorMessage": s.message, "errorDate": s.date.as_deref().unwrap_or(date)});
        if let Some(d) = &s.data {
            sub["errorData"] = json!(d);
        }
        e["subError"] = sub;
    }
    if let Some(sid) = session_id {
        e["sessionId"] = json!(sid);
    }
    json!({ "error": e }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: &str = r#"{"request":{"requestInfo":{"messageId":"m1","serviceId":"S","messageDate":"2026-12-03T12:00:00+05:00","sender":{"senderId":"a.b","password":"pw"},"properties":[{"key":"k","value":"v"}],"traceparent":"00-x"},"requestData":{"data":{"iin":"660427402182","n":[1,2.50]}}}}"#;

    #[test]
    fn forwards_without_password_keeping_the_payload_and_extra_fields() {
        let mut r = RestRequest::parse(REQ).unwrap();
        assert_eq!(r.info.sender_id, "a.b");
        assert_eq!(r.info.password, Some(Password("pw".into())));
        let fwd = r.forward("{sid}");
        assert!(!fwd.contains("pw") && !fwd.contains("password"), "{fwd}");
        assert!(fwd.contains(r#""sessionId":"{sid}""#));
        assert!(fwd.contains(r#""traceparent":"00-x""#));
        assert!(
            fwd.contains(r#"{"data":{"iin":"660427402182","n":[1,2.50]}}"#),
            "{fwd}"
        );
    }

    #[test]
    fn refusals_name_the_json_path() {
        let e =
            RestRequest::parse(&REQ.replace(r#""senderId":"a.b""#, r#""senderId":5"#)).unwrap_err();
        assert!(
            e.message.contains("request.requestInfo.sender.senderId"),
            "{}",
            e.message
        );
        let e = RestRequest::parse(&REQ.replace("2026-12-03T12:00:00+05:00", "soon")).unwrap_err();
        assert!(
            e.message.contains("request.requestInfo.messageDate"),
            "{}",
            e.message
        );
        let e = RestRequest::parse("[]").unwrap_err();
        assert_eq!(e.code, ErrorCode::MalformedMessage);
    }

    #[test]
    fn answers_and_errors() {
        let ok = r#"{"response":{"responseInfo":{"messageId":"m1","responseDate":"2026-12-03T12:00:01+05:00","status":{"code":"SCSS001","message":"ok"}},"responseData":{"data":{"x":1}}}}"#;
        match read_answer(200, ok, "{s}").unwrap() {
            RestAnswer::Response { status, body } => {
                assert_eq!(status.as_deref(), Some("SCSS001"));
                assert!(
                    body.contains(r#""sessionId":"{s}""#) && body.contains(r#"{"data":{"x":1}}"#),
                    "{body}"
                );
            }
            f => panic!("{f:?}"),
        }
        let err = r#"{"error":{"errorCode":"E42","errorMessage":"no"}}"#;
        assert!(
            matches!(read_answer(500, err, "{s}").unwrap(), RestAnswer::Fault(s) if s.code == "E42")
        );
        assert!(
            matches!(read_answer(404, "<html/>", "{s}").unwrap(), RestAnswer::Fault(s) if s.code == "HTTP_404")
        );
        assert!(read_answer(200, "<html/>", "{s}").is_err());
        let body = error_body(
            &Refusal::new(ErrorCode::UnknownService, "x"),
            "d",
            "g",
            Some("{s}"),
        );
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"]["errorCode"], "UNKNOWN_SERVICE");
        assert_eq!(v["error"]["sessionId"], "{s}");
    }
}
