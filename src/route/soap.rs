//! The sync SOAP channel (`ISyncChannel.SendMessage`, WIRE.md): reading a request, forwarding it
//! with the password stripped and the gateway's `sessionId` stamped, reading the backend's answer,
//! and building `SendMessageFault1_SendMessageFault` faults.
//!
//! The request is read in one pass over the original bytes ([`super::xml::Scanner`]); forwarding is
//! a splice of that text, so the payload under `requestData/data` reaches the backend byte for byte.

use std::ops::Range;

use super::fault::{ErrorCode, Refusal, SubError};
use super::xml::{Item, Ns, SOAP_ENV, SOAP12_ENV, Scanner, escape};

/// Namespace of `SendMessage`, `SendMessageResponse` and the fault element (WIRE.md).
pub const TYPES_NS: &str = "http://bip.bee.kz/SyncChannel/v10/Types";
/// Namespace of the WSDL's port type.
pub const INTERFACES_NS: &str = "http://bip.bee.kz/SyncChannel/v10/Interfaces";
/// Namespace of the request types.
pub const REQUEST_NS: &str = "http://bip.bee.kz/SyncChannel/v10/Types/Request";
/// Namespace of the response types.
pub const RESPONSE_NS: &str = "http://bip.bee.kz/SyncChannel/v10/Types/Response";
/// Namespace of the shared types (`SenderInfo`, `ErrorInfo`, ...).
pub const COMMON_NS: &str = "http://bip.bee.kz/common/v10/Types";
/// The status code of success (WIRE.md).
pub const SUCCESS_CODE: &str = "SCSS001";
/// WIRE.md: a property key is at most 30 characters.
pub const MAX_PROPERTY_KEY: usize = 30;
/// WIRE.md: a property value is at most 500 characters.
pub const MAX_PROPERTY_VALUE: usize = 500;
/// The longest value of any other `requestInfo` field, characters.
pub const MAX_FIELD: usize = 1024;

/// A password read from a message: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(pub String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// `requestInfo` of a message (WIRE.md, App.1), common to the SOAP and REST channels.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// The sender's message id.
    pub message_id: String,
    /// The chain the message belongs to.
    pub correlation_id: Option<String>,
    /// The registry's service key.
    pub service_id: String,
    /// When the sender sent it (xsd:dateTime, as written).
    pub message_date: String,
    /// The route key, for routed services.
    pub route_id: Option<String>,
    /// The operator-issued login.
    pub sender_id: String,
    /// Its password.
    pub password: Option<Password>,
    /// What the sender put as sessionId (the gateway replaces it).
    pub session_id: Option<String>,
    /// `properties` as (key, value).
    pub properties: Vec<(String, String)>,
}

/// Checks the fields every channel requires, naming the field and the rule.
pub fn check_info(info: &RequestInfo, prefix: &str) -> Result<(), String> {
    for (name, v) in [
        ("messageId", &info.message_id),
        ("serviceId", &info.service_id),
        ("messageDate", &info.message_date),
        ("sender.senderId", &info.sender_id),
    ] {
        if v.trim().is_empty() {
            return Err(format!("{prefix}.{name} is required (WIRE.md requestInfo)"));
        }
    }
    if !is_xsd_datetime(&info.message_date) {
        return Err(format!(
            "{prefix}.messageDate '{}' is not an xsd:dateTime (YYYY-MM-DDThh:mm:ss[.fff][zone])",
            clip(&info.message_date)
        ));
    }
    for (k, v) in &info.properties {
        if k.chars().count() > MAX_PROPERTY_KEY {
            return Err(format!(
                "{prefix}.properties: key '{}' is longer than {MAX_PROPERTY_KEY} characters (WIRE.md)",
                clip(k)
            ));
        }
        if v.chars().count() > MAX_PROPERTY_VALUE {
            return Err(format!(
                "{prefix}.properties: the value of '{}' is longer than {MAX_PROPERTY_VALUE} characters (WIRE.md)",
                clip(k)
            ));
        }
    }
    Ok(())
}

/// The first 64 characters of a value, for messages.
pub fn clip(s: &str) -> String {
    if s.chars().count() <= 64 {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(64).collect::<String>())
    }
}

/// Whether `s` is an xsd:dateTime: a date, `T`, a time with optional fraction, and an optional
/// zone (`Z` or `±hh:mm`).
pub fn is_xsd_datetime(s: &str) -> bool {
    let s = s.trim();
    let (body, zone) = if let Some(b) = s.strip_suffix('Z') {
        (b, "")
    } else if s.len() > 6
        && matches!(s.as_bytes()[s.len() - 6], b'+' | b'-')
        && s.as_bytes()[s.len() - 3] == b':'
    {
        (&s[..s.len() - 6], &s[s.len() - 6..])
    } else {
        (s, "")
    };
    if !zone.is_empty() {
        let (h, m) = (&zone[1..3], &zone[4..6]);
        if !(h.bytes().all(|b| b.is_ascii_digit()) && m.bytes().all(|b| b.is_ascii_digit())) {
            return false;
        }
    }
    body.parse::<jiff::civil::DateTime>().is_ok() && body.contains('T')
}

/// A parsed `SendMessage` and where to edit it for forwarding.
#[derive(Debug)]
pub struct SyncRequest {
    /// The fields.
    pub info: RequestInfo,
    password_span: Option<Range<usize>>,
    session_span: Option<Range<usize>>,
    /// Offset of `</requestInfo>`.
    info_end: usize,
    /// The prefix `requestInfo`'s children are written with (`v10:` or empty).
    child_prefix: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    MessageId,
    CorrelationId,
    ServiceId,
    MessageDate,
    RouteId,
    SessionId,
    SenderId,
    Password,
    Key,
    Value,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Envelope,
    Body,
    SendMessage,
    Request,
    RequestInfo,
    Sender,
    Properties,
    Field(Field),
}

fn malformed(msg: impl Into<String>) -> Refusal {
    Refusal::new(ErrorCode::MalformedMessage, msg)
}

fn ns_name(ns: Ns<'_>) -> String {
    match ns {
        Ns::None => "no namespace".into(),
        Ns::Uri(u) => u.to_string(),
        Ns::UnknownPrefix => "an undeclared prefix".into(),
    }
}

/// Reads the envelope root and returns after `Envelope` is open; refuses SOAP 1.2 and others.
fn open_envelope(sc: &mut Scanner<'_>) -> Result<(), Refusal> {
    match sc.next_item().map_err(malformed)? {
        Item::Open { local, qname, .. } => {
            let ns = sc.namespace(qname);
            if local == "Envelope" && ns == Ns::Uri(SOAP_ENV) {
                Ok(())
            } else if local == "Envelope" && ns == Ns::Uri(SOAP12_ENV) {
                Err(malformed(format!(
                    "SOAP 1.2 is not served: the sync channel is SOAP 1.1 ({SOAP_ENV})"
                )))
            } else {
                Err(malformed(format!(
                    "the root element must be Envelope of {SOAP_ENV}, not {local} of {}",
                    ns_name(ns)
                )))
            }
        }
        _ => Err(malformed("the document does not start with an element")),
    }
}

impl SyncRequest {
    /// Reads a `SendMessage` request (WIRE.md): the envelope, `requestInfo` with every field, and
    /// `requestData`. Refuses anything else with a message naming the element and the rule.
    pub fn parse(src: &str) -> Result<SyncRequest, Refusal> {
        let mut sc = Scanner::new(src);
        open_envelope(&mut sc)?;
        let mut stack: Vec<Place> = vec![Place::Envelope];
        let mut info = RequestInfo::default();
        let mut seen: Vec<Field> = Vec::new();
        let mut text = String::new();
        let mut field_start = 0usize;
        let mut password_span = None;
        let mut session_span = None;
        let mut info_end = None;
        let mut child_prefix: Option<String> = None;
        let mut body_seen = false;
        let mut send_seen = false;
        let mut request_seen = false;
        let mut info_seen = false;
        let mut data_seen = false;
        let mut sender_seen = false;
        let mut property: (Option<String>, Option<String>) = (None, None);
        loop {
            let item = sc.next_item().map_err(malformed)?;
            let Some(&here) = stack.last() else {
                match item {
                    Item::Eof => break,
                    _ => return Err(malformed("content after the Envelope")),
                }
            };
            match item {
                Item::Eof => return Err(malformed("the document ends inside an element")),
                Item::Text(t) => match here {
                    Place::Field(_) => {
                        if text.len() + t.len() > MAX_FIELD * 4 {
                            return Err(malformed(format!(
                                "a requestInfo field is longer than {MAX_FIELD} characters"
                            )));
                        }
                        text.push_str(&t);
                    }
                    _ if t.trim().is_empty() => {}
                    _ => {
                        return Err(malformed(format!(
                            "unexpected text in {}",
                            place_name(here)
                        )));
                    }
                },
                Item::Close { end, start } => {
                    stack.pop();
                    match here {
                        Place::Field(f) => {
                            finish_field(f, std::mem::take(&mut text), &mut info, &mut property)?;
                            match f {
                                Field::Password => password_span = Some(field_start..end),
                                Field::SessionId => session_span = Some(field_start..end),
                                _ => {}
                            }
                        }
                        Place::Properties => {
                            let (Some(k), v) = std::mem::take(&mut property) else {
                                return Err(malformed(
                                    "requestInfo/properties needs a key (WIRE.md: properties{key, value})",
                                ));
                            };
                            info.properties.push((k, v.unwrap_or_default()));
                        }
                        Place::RequestInfo => info_end = Some(start),
                        _ => {}
                    }
                }
                Item::Open {
                    local,
                    qname,
                    prefix,
                    start,
                    end,
                    empty,
                } => {
                    let next = match here {
                        Place::Envelope => {
                            let ns = sc.namespace(qname);
                            match local {
                                "Header" if ns == Ns::Uri(SOAP_ENV) && !body_seen => {
                                    if !empty {
                                        sc.skip_element().map_err(malformed)?;
                                    }
                                    continue;
                                }
                                "Body" if ns == Ns::Uri(SOAP_ENV) && !body_seen => {
                                    body_seen = true;
                                    Place::Body
                                }
                                _ => {
                                    return Err(malformed(format!(
                                        "Envelope holds an optional Header and one Body of {SOAP_ENV}; found {local}"
                                    )));
                                }
                            }
                        }
                        Place::Body => {
                            let ns = sc.namespace(qname);
                            if send_seen {
                                return Err(malformed("Body holds exactly one SendMessage"));
                            }
                            if local != "SendMessage" || ns != Ns::Uri(TYPES_NS) {
                                return Err(malformed(format!(
                                    "Body must hold SendMessage of {TYPES_NS} (the sync channel's only operation); found {local} of {}",
                                    ns_name(ns)
                                )));
                            }
                            send_seen = true;
                            Place::SendMessage
                        }
                        Place::SendMessage => match local {
                            "request" if !request_seen => {
                                request_seen = true;
                                Place::Request
                            }
                            _ => return Err(unexpected("SendMessage", local, "request")),
                        },
                        Place::Request => match local {
                            "requestInfo" if !info_seen => {
                                info_seen = true;
                                Place::RequestInfo
                            }
                            "requestData" if info_seen && !data_seen => {
                                data_seen = true;
                                if !empty {
                                    sc.skip_element().map_err(malformed)?;
                                }
                                continue;
                            }
                            _ => {
                                return Err(unexpected(
                                    "request",
                                    local,
                                    "requestInfo, then requestData",
                                ));
                            }
                        },
                        Place::RequestInfo => {
                            if child_prefix.is_none() {
                                child_prefix = Some(prefix.to_string());
                            }
                            let f = match local {
                                "messageId" => Field::MessageId,
                                "correlationId" => Field::CorrelationId,
                                "serviceId" => Field::ServiceId,
                                "messageDate" => Field::MessageDate,
                                "routeId" => Field::RouteId,
                                "sessionId" => Field::SessionId,
                                "sender" if !sender_seen => {
                                    sender_seen = true;
                                    if empty {
                                        return Err(malformed(
                                            "requestInfo/sender needs senderId (p.53.2: the operator-issued login)",
                                        ));
                                    }
                                    stack.push(Place::Sender);
                                    continue;
                                }
                                "properties" => {
                                    if empty {
                                        return Err(malformed(
                                            "requestInfo/properties needs a key",
                                        ));
                                    }
                                    stack.push(Place::Properties);
                                    continue;
                                }
                                _ => {
                                    return Err(unexpected(
                                        "requestInfo",
                                        local,
                                        "messageId, correlationId, serviceId, messageDate, routeId, sender, properties, sessionId",
                                    ));
                                }
                            };
                            field(f, &mut seen)?
                        }
                        Place::Sender => match local {
                            "senderId" => field(Field::SenderId, &mut seen)?,
                            "password" => field(Field::Password, &mut seen)?,
                            _ => {
                                return Err(unexpected(
                                    "requestInfo/sender",
                                    local,
                                    "senderId, password",
                                ));
                            }
                        },
                        Place::Properties => match local {
                            "key" if property.0.is_none() => Place::Field(Field::Key),
                            "value" if property.1.is_none() => Place::Field(Field::Value),
                            _ => {
                                return Err(unexpected(
                                    "requestInfo/properties",
                                    local,
                                    "key, value",
                                ));
                            }
                        },
                        Place::Field(f) => {
                            return Err(malformed(format!(
                                "{} must be text, not hold element {local}",
                                field_name(f)
                            )));
                        }
                    };
                    if let Place::Field(f) = next {
                        field_start = start;
                        if empty {
                            finish_field(f, String::new(), &mut info, &mut property)?;
                            match f {
                                Field::Password => password_span = Some(start..end),
                                Field::SessionId => session_span = Some(start..end),
                                _ => {}
                            }
                            continue;
                        }
                    } else if empty {
                        return Err(malformed(format!("{} is empty", place_name(next))));
                    }
                    stack.push(next);
                }
            }
        }
        if !info_seen {
            return Err(malformed(
                "SendMessage/request/requestInfo is required (WIRE.md)",
            ));
        }
        if !data_seen {
            return Err(malformed(
                "SendMessage/request/requestData is required (WIRE.md)",
            ));
        }
        if !sender_seen {
            return Err(malformed(
                "requestInfo/sender is required (p.53.2: the operator-issued login and password)",
            ));
        }
        check_info(&info, "requestInfo").map_err(malformed)?;
        Ok(SyncRequest {
            info,
            password_span,
            session_span,
            info_end: info_end.unwrap_or(0),
            child_prefix: child_prefix.unwrap_or_default(),
        })
    }

    /// The message as the backend receives it: the password removed (the backend never sees the
    /// gateway login), `sessionId` set to the gateway's (replaced if the sender wrote one).
    pub fn forward(&self, src: &str, session_id: &str) -> String {
        let session = format!(
            "<{p}sessionId>{s}</{p}sessionId>",
            p = self.child_prefix,
            s = escape(session_id)
        );
        // The edits, in document order (a sender may write sessionId before sender).
        let mut edits: Vec<(Range<usize>, &str)> = Vec::with_capacity(2);
        if let Some(r) = &self.password_span {
            edits.push((r.clone(), ""));
        }
        match &self.session_span {
            Some(r) => edits.push((r.clone(), &session)),
            None => edits.push((self.info_end..self.info_end, &session)),
        }
        edits.sort_by_key(|(r, _)| r.start);
        let mut out = String::with_capacity(src.len() + session.len());
        let mut pos = 0;
        for (r, with) in edits {
            out.push_str(&src[pos..r.start]);
            out.push_str(with);
            pos = r.end;
        }
        out.push_str(&src[pos..]);
        out
    }

    /// The message with only the password removed: what the journal digests for a message that
    /// was refused before forwarding.
    pub fn without_password<'a>(&self, src: &'a str) -> std::borrow::Cow<'a, str> {
        match &self.password_span {
            Some(r) => format!("{}{}", &src[..r.start], &src[r.end..]).into(),
            None => src.into(),
        }
    }
}

fn field(f: Field, seen: &mut Vec<Field>) -> Result<Place, Refusal> {
    if seen.contains(&f) {
        return Err(malformed(format!("{} appears twice", field_name(f))));
    }
    seen.push(f);
    Ok(Place::Field(f))
}

fn unexpected(parent: &str, local: &str, allowed: &str) -> Refusal {
    malformed(format!(
        "unexpected element {parent}/{local}; {parent} holds {allowed} (WIRE.md)"
    ))
}

fn place_name(p: Place) -> &'static str {
    match p {
        Place::Envelope => "Envelope",
        Place::Body => "Body",
        Place::SendMessage => "SendMessage",
        Place::Request => "request",
        Place::RequestInfo => "requestInfo",
        Place::Sender => "requestInfo/sender",
        Place::Properties => "requestInfo/properties",
        Place::Field(f) => field_name(f),
    }
}

fn field_name(f: Field) -> &'static str {
    match f {
        Field::MessageId => "requestInfo/messageId",
        Field::CorrelationId => "requestInfo/correlationId",
        Field::ServiceId => "requestInfo/serviceId",
        Field::MessageDate => "requestInfo/messageDate",
        Field::RouteId => "requestInfo/routeId",
        Field::SessionId => "requestInfo/sessionId",
        Field::SenderId => "requestInfo/sender/senderId",
        Field::Password => "requestInfo/sender/password",
        Field::Key => "requestInfo/properties/key",
        Field::Value => "requestInfo/properties/value",
    }
}

fn finish_field(
    f: Field,
    text: String,
    info: &mut RequestInfo,
    property: &mut (Option<String>, Option<String>),
) -> Result<(), Refusal> {
    if f != Field::Password && f != Field::Value && text.chars().count() > MAX_FIELD {
        return Err(malformed(format!(
            "{} is longer than {MAX_FIELD} characters",
            field_name(f)
        )));
    }
    let trimmed = || text.trim().to_string();
    match f {
        Field::MessageId => info.message_id = trimmed(),
        Field::CorrelationId => info.correlation_id = Some(trimmed()).filter(|s| !s.is_empty()),
        Field::ServiceId => info.service_id = trimmed(),
        Field::MessageDate => info.message_date = trimmed(),
        Field::RouteId => info.route_id = Some(trimmed()).filter(|s| !s.is_empty()),
        Field::SessionId => info.session_id = Some(trimmed()),
        Field::SenderId => info.sender_id = trimmed(),
        Field::Password => info.password = Some(Password(text)),
        Field::Key => property.0 = Some(trimmed()),
        Field::Value => property.1 = Some(text),
    }
    Ok(())
}

/// What the backend answered, read from its envelope.
#[derive(Debug, PartialEq, Eq)]
pub enum BackendAnswer {
    /// A `SendMessageResponse`, relayed with the gateway's `sessionId`.
    Response {
        /// `responseInfo/status/code` (SCSS001 on success).
        status: Option<String>,
        /// The answer as relayed to the sender.
        body: String,
    },
    /// A SOAP fault: relayed as the `subError` of a `BACKEND_FAULT`.
    Fault(SubError),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RPlace {
    Envelope,
    Body,
    Response,
    Inner,
    Info,
    Status,
    Code,
    Session,
    Fault,
    FaultCode,
    FaultString,
    Detail,
    ErrorInfo,
    ErrField(usize),
    Skip,
}

/// Reads the backend's answer: a `SendMessageResponse` (its status code is noted and the gateway's
/// `sessionId` is stamped into `responseInfo`), or a SOAP fault whose `ErrorInfo` (or
/// `faultcode`/`faultstring`) becomes the `subError`. Anything else is an error message. A response
/// is read up to the end of `responseInfo`: `responseData` is relayed unread, however large.
pub fn read_answer(src: &str, session_id: &str) -> Result<BackendAnswer, String> {
    let mut sc = Scanner::new(src);
    open_envelope(&mut sc).map_err(|r| r.message)?;
    let mut stack = vec![RPlace::Envelope];
    let mut text = String::new();
    let mut status = None;
    let mut session_span: Option<Range<usize>> = None;
    let mut session_start = 0;
    let mut info_end = None;
    let mut info_prefix = String::new();
    let mut fault = false;
    let mut sub = SubError::default();
    let mut fault_code = String::new();
    let mut fault_string = String::new();
    let mut got_error_info = false;
    loop {
        let item = sc.next_item()?;
        let Some(&here) = stack.last() else {
            match item {
                Item::Eof => break,
                _ => return Err("content after the Envelope".into()),
            }
        };
        match item {
            Item::Eof => return Err("the answer ends inside an element".into()),
            Item::Text(t) => {
                if matches!(
                    here,
                    RPlace::Code | RPlace::FaultCode | RPlace::FaultString | RPlace::ErrField(_)
                ) && text.len() < 4096
                {
                    text.push_str(&t);
                }
            }
            Item::Close { start, end } => {
                stack.pop();
                let t = std::mem::take(&mut text).trim().to_string();
                match here {
                    RPlace::Code => status = Some(t),
                    RPlace::Session => session_span = Some(session_start..end),
                    RPlace::Info => {
                        // What the gateway reads and edits ends here; the payload that follows is
                        // the provider's and is relayed as it is.
                        info_end = Some(start);
                        break;
                    }
                    RPlace::FaultCode => fault_code = t,
                    RPlace::FaultString => fault_string = t,
                    RPlace::ErrField(i) => match i {
                        0 => sub.code = t,
                        1 => sub.message = t,
                        2 => sub.data = Some(t).filter(|s| !s.is_empty()),
                        _ => sub.date = Some(t).filter(|s| !s.is_empty()),
                    },
                    _ => {}
                }
            }
            Item::Open {
                local,
                qname,
                prefix,
                start,
                end,
                empty,
            } => {
                let next = match (here, local) {
                    (RPlace::Envelope, "Header") => RPlace::Skip,
                    (RPlace::Envelope, "Body") => RPlace::Body,
                    (RPlace::Body, "SendMessageResponse") => RPlace::Response,
                    (RPlace::Body, "Fault") if sc.namespace(qname) == Ns::Uri(SOAP_ENV) => {
                        fault = true;
                        RPlace::Fault
                    }
                    (RPlace::Body, other) => {
                        return Err(format!(
                            "the answer's Body holds {other}, not SendMessageResponse or a Fault"
                        ));
                    }
                    (RPlace::Response, "response") => RPlace::Inner,
                    (RPlace::Inner, "responseInfo") => RPlace::Info,
                    (RPlace::Info, "status") => RPlace::Status,
                    (RPlace::Info, "sessionId") => {
                        session_start = start;
                        if empty {
                            session_span = Some(start..end);
                            continue;
                        }
                        RPlace::Session
                    }
                    (RPlace::Status, "code") => RPlace::Code,
                    (RPlace::Fault, "faultcode") => RPlace::FaultCode,
                    (RPlace::Fault, "faultstring") => RPlace::FaultString,
                    (RPlace::Fault, "detail") => RPlace::Detail,
                    (RPlace::Detail, _) if !got_error_info => {
                        got_error_info = true;
                        RPlace::ErrorInfo
                    }
                    (RPlace::ErrorInfo, "errorCode") => RPlace::ErrField(0),
                    (RPlace::ErrorInfo, "errorMessage") => RPlace::ErrField(1),
                    (RPlace::ErrorInfo, "errorData") => RPlace::ErrField(2),
                    (RPlace::ErrorInfo, "errorDate") => RPlace::ErrField(3),
                    _ => RPlace::Skip,
                };
                if here == RPlace::Info && info_prefix.is_empty() {
                    info_prefix = prefix.to_string();
                }
                if empty {
                    continue;
                }
                if next == RPlace::Skip {
                    sc.skip_element()?;
                    continue;
                }
                stack.push(next);
            }
        }
    }
    if fault {
        if sub.code.is_empty() {
            sub.code = if fault_code.is_empty() {
                "SOAP_FAULT".into()
            } else {
                fault_code
            };
        }
        if sub.message.is_empty() {
            sub.message = fault_string;
        }
        return Ok(BackendAnswer::Fault(sub));
    }
    let Some(info_end) = info_end else {
        return Err("the answer has no SendMessageResponse/response/responseInfo".into());
    };
    let session = format!(
        "<{p}sessionId>{s}</{p}sessionId>",
        p = info_prefix,
        s = escape(session_id)
    );
    let mut body = String::with_capacity(src.len() + session.len());
    match session_span {
        Some(r) => {
            body.push_str(&src[..r.start]);
            body.push_str(&session);
            body.push_str(&src[r.end..]);
        }
        None => {
            body.push_str(&src[..info_end]);
            body.push_str(&session);
            body.push_str(&src[info_end..]);
        }
    }
    Ok(BackendAnswer::Response { status, body })
}

/// A `SendMessageFault1_SendMessageFault` in a SOAP 1.1 fault (WIRE.md): `errorCode`,
/// `errorMessage`, `errorData` (the gateway message id, for support), `errorDate`, `subError`,
/// `sessionId`.
pub fn fault(
    r: &Refusal,
    date: &str,
    gateway_message_id: &str,
    session_id: Option<&str>,
) -> String {
    let mut s = String::with_capacity(1024);
    s.push_str(r#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>"#);
    s.push_str(if r.code.is_client_fault() {
        "soap:Client"
    } else {
        "soap:Server"
    });
    s.push_str("</faultcode><faultstring>");
    s.push_str(&escape(&format!("{}: {}", r.code, r.message)));
    s.push_str("</faultstring><detail><ns2:SendMessageFault1_SendMessageFault xmlns:ns2=\"");
    s.push_str(TYPES_NS);
    s.push_str("\">");
    error_info(
        &mut s,
        r.code.as_str(),
        &r.message,
        Some(&format!("gatewayMessageId={gateway_message_id}")),
        date,
    );
    if let Some(sub) = &r.sub_error {
        s.push_str("<subError>");
        error_info(
            &mut s,
            &sub.code,
            &sub.message,
            sub.data.as_deref(),
            sub.date.as_deref().unwrap_or(date),
        );
        s.push_str("</subError>");
    }
    if let Some(sid) = session_id {
        s.push_str("<sessionId>");
        s.push_str(&escape(sid));
        s.push_str("</sessionId>");
    }
    s.push_str("</ns2:SendMessageFault1_SendMessageFault></detail></soap:Fault></soap:Body></soap:Envelope>");
    s
}

fn error_info(s: &mut String, code: &str, message: &str, data: Option<&str>, date: &str) {
    s.push_str("<errorCode>");
    s.push_str(&escape(code));
    s.push_str("</errorCode><errorMessage>");
    s.push_str(&escape(message));
    s.push_str("</errorMessage>");
    if let Some(d) = data {
        s.push_str("<errorData>");
        s.push_str(&escape(d));
        s.push_str("</errorData>");
    }
    s.push_str("<errorDate>");
    s.push_str(&escape(date));
    s.push_str("</errorDate>");
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn request(service: &str, sender: &str, password: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:v10="http://bip.bee.kz/SyncChannel/v10/Types">
  <soapenv:Header/>
  <soapenv:Body>
    <v10:SendMessage>
      <request>
        <requestInfo>
          <messageId>6f1c1d2e-1111-4a4a-9b9b-000000000001</messageId>
          <serviceId>{service}</serviceId>
          <messageDate>2026-12-03T12:00:00.000+05:00</messageDate>
          <sender><senderId>{sender}</senderId><password>{password}</password></sender>
          <properties><key>CONNECTOR_CLIENT</key><value>true</value></properties>
        </requestInfo>
        <requestData><data xmlns:x="urn:payload"><x:iin>660427402182</x:iin></data></requestData>
      </request>
    </v10:SendMessage>
  </soapenv:Body>
</soapenv:Envelope>"#
        )
    }

    #[test]
    fn reads_every_field_and_forwards_without_the_password() {
        let src = request("GBDFL_Person", "altyn.bank", "s3cr&amp;t");
        let r = SyncRequest::parse(&src).unwrap();
        assert_eq!(r.info.service_id, "GBDFL_Person");
        assert_eq!(r.info.sender_id, "altyn.bank");
        assert_eq!(r.info.password, Some(Password("s3cr&t".into())));
        assert_eq!(
            r.info.properties,
            vec![("CONNECTOR_CLIENT".into(), "true".into())]
        );
        assert_eq!(format!("{:?}", r.info.password), "Some(<redacted>)");
        let sid = "{0a0b0c0d-0000-4000-8000-000000000000}";
        let fwd = r.forward(&src, sid);
        assert!(!fwd.contains("password") && !fwd.contains("s3cr"), "{fwd}");
        assert!(
            fwd.contains(&format!(
                "<sessionId>{sid}</sessionId>\n        </requestInfo>"
            )) || fwd.contains(&format!("<sessionId>{sid}</sessionId></requestInfo>")),
            "{fwd}"
        );
        assert!(fwd.contains(r#"<data xmlns:x="urn:payload"><x:iin>660427402182</x:iin></data>"#));
        // The forwarded message is itself a valid request (without a password).
        let again = SyncRequest::parse(&fwd).unwrap();
        assert_eq!(again.info.session_id.as_deref(), Some(sid));
        assert_eq!(again.info.password, None);
    }

    #[test]
    fn replaces_a_session_id_the_sender_wrote() {
        let src = request("S", "a", "p").replace(
            "</requestInfo>",
            "<sessionId>{forged}</sessionId></requestInfo>",
        );
        let r = SyncRequest::parse(&src).unwrap();
        let fwd = r.forward(&src, "{real}");
        assert!(fwd.contains("<sessionId>{real}</sessionId>") && !fwd.contains("forged"));
    }

    #[test]
    fn a_session_id_before_the_sender_is_replaced_too() {
        let src =
            request("S", "a", "p").replace("<sender>", "<sessionId>{forged}</sessionId><sender>");
        let r = SyncRequest::parse(&src).unwrap();
        let fwd = r.forward(&src, "{real}");
        assert!(
            fwd.contains("<sessionId>{real}</sessionId><sender><senderId>a</senderId></sender>"),
            "{fwd}"
        );
        assert!(!fwd.contains("forged") && !fwd.contains("<password>"));
    }

    #[test]
    fn qualified_children_keep_their_prefix() {
        let src = r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><t:SendMessage xmlns:t="http://bip.bee.kz/SyncChannel/v10/Types"><t:request><t:requestInfo><t:messageId>1</t:messageId><t:serviceId>S</t:serviceId><t:messageDate>2026-12-03T12:00:00</t:messageDate><t:sender><t:senderId>a</t:senderId></t:sender></t:requestInfo><t:requestData/></t:request></t:SendMessage></e:Body></e:Envelope>"#;
        let r = SyncRequest::parse(src).unwrap();
        assert_eq!(r.info.password, None);
        assert!(
            r.forward(src, "{x}")
                .contains("<t:sessionId>{x}</t:sessionId></t:requestInfo>")
        );
    }

    #[test]
    fn refusals_name_the_element_and_the_rule() {
        let base = request("S", "a", "p");
        let cases = [
            (
                base.replace(
                    "<messageId>6f1c1d2e-1111-4a4a-9b9b-000000000001</messageId>",
                    "",
                ),
                "messageId is required",
            ),
            (
                base.replace("2026-12-03T12:00:00.000+05:00", "yesterday"),
                "messageDate 'yesterday'",
            ),
            (
                base.replace(
                    "<key>CONNECTOR_CLIENT</key>",
                    &format!("<key>{}</key>", "k".repeat(31)),
                ),
                "longer than 30",
            ),
            (
                base.replace("v10:SendMessage", "v10:SendMessage2"),
                "must hold SendMessage",
            ),
            (
                base.replace("<sender>", "<sender><x/>"),
                "requestInfo/sender holds",
            ),
            (
                base.replace(
                    "<serviceId>S</serviceId>",
                    "<serviceId>S</serviceId><serviceId>T</serviceId>",
                ),
                "appears twice",
            ),
            (
                base.replace(r#"<data xmlns:x="urn:payload">"#, "<data>&ext;"),
                "&ext; is not defined",
            ),
            (
                base.replace(
                    "http://schemas.xmlsoap.org/soap/envelope/",
                    "http://www.w3.org/2003/05/soap-envelope",
                ),
                "SOAP 1.2",
            ),
            (base.replace("</soapenv:Envelope>", ""), "ends inside"),
            ("not xml".to_string(), "root"),
        ];
        for (src, want) in cases {
            let e = SyncRequest::parse(&src).expect_err(want);
            assert_eq!(e.code, ErrorCode::MalformedMessage);
            assert!(e.message.contains(want), "want '{want}' in '{}'", e.message);
        }
    }

    #[test]
    fn answers_get_the_gateway_session_and_faults_become_sub_errors() {
        let ok = r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><ns2:SendMessageResponse xmlns:ns2="http://bip.bee.kz/SyncChannel/v10/Types"><response><responseInfo><messageId>1</messageId><responseDate>2026-12-03T12:00:01+05:00</responseDate><status><code>SCSS001</code><message>Message has been processed successfully</message></status></responseInfo><responseData><data>x</data></responseData></response></ns2:SendMessageResponse></S:Body></S:Envelope>"#;
        match read_answer(ok, "{s}").unwrap() {
            BackendAnswer::Response { status, body } => {
                assert_eq!(status.as_deref(), Some("SCSS001"));
                assert!(
                    body.contains("</status><sessionId>{s}</sessionId></responseInfo>"),
                    "{body}"
                );
            }
            f => panic!("{f:?}"),
        }
        let flt = r#"<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><S:Fault><faultcode>S:Server</faultcode><faultstring>no person</faultstring><detail><ns2:SendMessageFault1_SendMessageFault xmlns:ns2="http://bip.bee.kz/SyncChannel/v10/Types"><errorCode>GBD_404</errorCode><errorMessage>person not found</errorMessage><errorDate>2026-12-03T12:00:01+05:00</errorDate></ns2:SendMessageFault1_SendMessageFault></detail></S:Fault></S:Body></S:Envelope>"#;
        assert_eq!(
            read_answer(flt, "{s}").unwrap(),
            BackendAnswer::Fault(SubError {
                code: "GBD_404".into(),
                message: "person not found".into(),
                data: None,
                date: Some("2026-12-03T12:00:01+05:00".into()),
            })
        );
        assert!(read_answer("<html>oops</html>", "{s}").is_err());
    }

    #[test]
    fn faults_carry_code_message_date_and_sub_error() {
        let r = Refusal::new(
            ErrorCode::BackendFault,
            "the backend answered with a fault <x>",
        )
        .with_sub_error(SubError {
            code: "E1".into(),
            message: "m".into(),
            ..Default::default()
        });
        let f = fault(&r, "2026-12-03T12:00:00+05:00", "gid", Some("{sid}"));
        assert!(f.contains("<faultcode>soap:Server</faultcode>"));
        assert!(f.contains("<errorCode>BACKEND_FAULT</errorCode><errorMessage>the backend answered with a fault &lt;x&gt;</errorMessage><errorData>gatewayMessageId=gid</errorData><errorDate>2026-12-03T12:00:00+05:00</errorDate><subError><errorCode>E1</errorCode>"));
        assert!(f.contains("<sessionId>{sid}</sessionId>"));
        // The fault is a well-formed answer of the backend kind too.
        assert!(
            matches!(read_answer(&f, "{x}").unwrap(), BackendAnswer::Fault(s) if s.code == "BACKEND_FAULT")
        );
    }

    #[test]
    fn xsd_datetimes() {
        for ok in [
            "2026-12-03T12:00:00",
            "2026-12-03T12:00:00.123Z",
            "2026-12-03T12:00:00+05:00",
            "2019-12-25T12:48:21.024Z",
        ] {
            assert!(is_xsd_datetime(ok), "{ok}");
        }
        for bad in [
            "2026-12-03",
            "12:00",
            "2026-13-03T12:00:00",
            "x",
            "2026-12-03T12:00:00+5",
        ] {
            assert!(!is_xsd_datetime(bad), "{bad}");
        }
    }
}
