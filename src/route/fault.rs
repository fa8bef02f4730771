//! Why a route refuses a message (DESIGN §4): one code per cause, so that a caller, its developers
//! and the journal know exactly what happened. SOAP callers receive these as a
//! `SendMessageFault1_SendMessageFault` (WIRE.md), REST callers as a JSON `error` object; both carry
//! the same `errorCode`, `errorMessage`, `errorDate` and, when the backend failed, its own error as
//! `subError`.

use hyper::StatusCode;

/// The cause of a refusal. Codes are stable: clients and dashboards match on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// The message is not a well-formed envelope of the channel (WIRE.md, App.1).
    MalformedMessage,
    /// The body exceeds the route's size limit.
    MessageTooLarge,
    /// The body did not arrive within the route's read timeout (a slow client).
    RequestTimeout,
    /// `serviceId` is not the service key this route serves.
    UnknownService,
    /// `routeId` does not match the service's route key (App.3 routing).
    UnknownRoute,
    /// `senderId`/`password` do not match an operator-issued login of this contour (p.53.2).
    AuthenticationFailed,
    /// The sender is known but not active in this contour: suspended, not yet granted, refused.
    SenderNotActive,
    /// A technological break of this contour is in progress (p.48, p.50, p.62).
    MaintenanceMode,
    /// The backend did not answer within the SLA's maximum processing time (App.2).
    BackendTimeout,
    /// The backend could not be reached.
    BackendUnreachable,
    /// The backend answered with a fault or an error; its own error is relayed as `subError`.
    BackendFault,
    /// The route is at its bound of concurrent messages; retry shortly.
    ServerBusy,
    /// The route has no valid configuration yet.
    RouteNotReady,
    /// The channel (path or method) is not served by this route.
    ChannelNotServed,
}

impl ErrorCode {
    /// Every code, for documentation and metrics.
    pub const ALL: [ErrorCode; 14] = [
        ErrorCode::MalformedMessage,
        ErrorCode::MessageTooLarge,
        ErrorCode::RequestTimeout,
        ErrorCode::UnknownService,
        ErrorCode::UnknownRoute,
        ErrorCode::AuthenticationFailed,
        ErrorCode::SenderNotActive,
        ErrorCode::MaintenanceMode,
        ErrorCode::BackendTimeout,
        ErrorCode::BackendUnreachable,
        ErrorCode::BackendFault,
        ErrorCode::ServerBusy,
        ErrorCode::RouteNotReady,
        ErrorCode::ChannelNotServed,
    ];

    /// The `errorCode` string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MalformedMessage => "MALFORMED_MESSAGE",
            ErrorCode::MessageTooLarge => "MESSAGE_TOO_LARGE",
            ErrorCode::RequestTimeout => "REQUEST_TIMEOUT",
            ErrorCode::UnknownService => "UNKNOWN_SERVICE",
            ErrorCode::UnknownRoute => "UNKNOWN_ROUTE",
            ErrorCode::AuthenticationFailed => "AUTHENTICATION_FAILED",
            ErrorCode::SenderNotActive => "SENDER_NOT_ACTIVE",
            ErrorCode::MaintenanceMode => "MAINTENANCE_MODE",
            ErrorCode::BackendTimeout => "BACKEND_TIMEOUT",
            ErrorCode::BackendUnreachable => "BACKEND_UNREACHABLE",
            ErrorCode::BackendFault => "BACKEND_FAULT",
            ErrorCode::ServerBusy => "SERVER_BUSY",
            ErrorCode::RouteNotReady => "ROUTE_NOT_READY",
            ErrorCode::ChannelNotServed => "CHANNEL_NOT_SERVED",
        }
    }

    /// The HTTP status of the answer. SOAP 1.1 faults travel with 500 (the SOAP binding) unless the
    /// HTTP layer itself is the reason (size, timeout, overload, maintenance).
    pub fn http_status(self, soap: bool) -> StatusCode {
        match self {
            ErrorCode::MessageTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::ServerBusy | ErrorCode::MaintenanceMode | ErrorCode::RouteNotReady => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ErrorCode::ChannelNotServed => StatusCode::NOT_FOUND,
            _ if soap => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::MalformedMessage => StatusCode::BAD_REQUEST,
            ErrorCode::UnknownService | ErrorCode::UnknownRoute => StatusCode::NOT_FOUND,
            ErrorCode::AuthenticationFailed => StatusCode::UNAUTHORIZED,
            ErrorCode::SenderNotActive => StatusCode::FORBIDDEN,
            ErrorCode::BackendTimeout => StatusCode::GATEWAY_TIMEOUT,
            ErrorCode::BackendUnreachable | ErrorCode::BackendFault => StatusCode::BAD_GATEWAY,
        }
    }

    /// Whether the caller is at fault (SOAP `faultcode` `Client`) or the gateway side (`Server`).
    pub fn is_client_fault(self) -> bool {
        matches!(
            self,
            ErrorCode::MalformedMessage
                | ErrorCode::MessageTooLarge
                | ErrorCode::RequestTimeout
                | ErrorCode::UnknownService
                | ErrorCode::UnknownRoute
                | ErrorCode::AuthenticationFailed
                | ErrorCode::SenderNotActive
                | ErrorCode::ChannelNotServed
        )
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The backend's own error, relayed as `subError`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubError {
    /// The backend's error code (its `errorCode`, SOAP `faultcode`, or `HTTP_<status>`).
    pub code: String,
    /// The backend's message.
    pub message: String,
    /// The backend's `errorData`, when it gave one.
    pub data: Option<String>,
    /// The backend's `errorDate`, when it gave one.
    pub date: Option<String>,
}

/// A refusal: the code, a message that says exactly why, and what else the caller should know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The cause.
    pub code: ErrorCode,
    /// Why, in words (never a password or the body).
    pub message: String,
    /// The backend's error, for [`ErrorCode::BackendFault`] (boxed: refusals travel in `Err`).
    pub sub_error: Option<Box<SubError>>,
    /// Seconds after which a retry may succeed (`Retry-After`).
    pub retry_after: Option<u64>,
}

impl Refusal {
    /// A refusal with a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            sub_error: None,
            retry_after: None,
        }
    }

    /// With `Retry-After`.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// With the backend's error.
    pub fn with_sub_error(mut self, sub: SubError) -> Self {
        self.sub_error = Some(Box::new(sub));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_upper_snake() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "{c}");
            assert!(
                c.as_str()
                    .chars()
                    .all(|ch| ch.is_ascii_uppercase() || ch == '_')
            );
        }
    }

    #[test]
    fn soap_faults_use_500_except_for_http_level_causes() {
        assert_eq!(ErrorCode::AuthenticationFailed.http_status(true), 500);
        assert_eq!(ErrorCode::AuthenticationFailed.http_status(false), 401);
        assert_eq!(ErrorCode::MessageTooLarge.http_status(true), 413);
        assert_eq!(ErrorCode::MaintenanceMode.http_status(true), 503);
        assert_eq!(ErrorCode::BackendTimeout.http_status(false), 504);
    }
}
