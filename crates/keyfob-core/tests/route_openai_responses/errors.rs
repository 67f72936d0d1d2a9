//! Error bodies, whole and mid-stream.

use super::*;

// ---------------------------------------------------------------- errors

#[test]
fn error_bodies_decode_by_status() {
    let cases: &[(u16, &[u8], ErrorKind, &str)] = &[
        (400, fixture!("error_400.json"), ErrorKind::InvalidRequest, "Invalid type for 'input': expected one of a string or array of input items, but got an object instead."),
        (401, fixture!("error_401.json"), ErrorKind::Authentication, "Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys."),
        (404, fixture!("error_404.json"), ErrorKind::NotFound, "The model `gpt-9` does not exist or you do not have access to it."),
        (429, fixture!("error_429.json"), ErrorKind::RateLimited, "Rate limit reached for gpt-4.1 in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000, Requested 2000."),
        (500, fixture!("error_500.json"), ErrorKind::Server, "The server had an error while processing your request. Sorry about that!"),
        (503, fixture!("error_503.json"), ErrorKind::Overloaded, "The engine is currently overloaded, please try again later."),
    ];
    for (status, body, kind, message) in cases {
        assert_eq!(
            decode_error(*status, body),
            ProviderError {
                status: *status,
                kind: *kind,
                message: message.to_string()
            }
        );
    }
    let html = decode_error(502, b"<html>Bad gateway</html>");
    assert_eq!(
        (html.kind, html.message.as_str()),
        (ErrorKind::Server, "<html>Bad gateway</html>")
    );
}

#[test]
fn errors_encode_as_openai_bodies_and_read_back() {
    let error = ProviderError {
        status: 429,
        kind: ErrorKind::RateLimited,
        message: "Slow down.".into(),
    };
    assert_eq!(
        json_of(&encode_error(&error)),
        json!({"error": {"message": "Slow down.", "type": "requests", "param": null, "code": "rate_limit_exceeded"}})
    );
    for (status, kind) in [
        (400, ErrorKind::InvalidRequest),
        (401, ErrorKind::Authentication),
        (403, ErrorKind::PermissionDenied),
        (404, ErrorKind::NotFound),
        (429, ErrorKind::RateLimited),
        (503, ErrorKind::Overloaded),
        (500, ErrorKind::Server),
    ] {
        let error = ProviderError {
            status,
            kind,
            message: "m".into(),
        };
        assert_eq!(decode_error(status, &encode_error(&error)), error);
    }
}
