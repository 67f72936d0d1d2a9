//! Error bodies, whole and mid-stream.

use super::*;

// ---- errors ----

#[test]
fn error_bodies_decode_by_status() {
    let cases = [
        ("error_400.json", 400, ErrorKind::InvalidRequest, "Invalid value for 'temperature': expected a number."),
        ("error_401.json", 401, ErrorKind::Authentication, "Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys."),
        ("error_403.json", 403, ErrorKind::PermissionDenied, "Country, region, or territory not supported"),
        ("error_404.json", 404, ErrorKind::NotFound, "The model `gpt-9` does not exist or you do not have access to it."),
        ("error_404_ollama.json", 404, ErrorKind::NotFound, "model \"llama9\" not found, try pulling it first"),
        ("error_429.json", 429, ErrorKind::RateLimited, "Rate limit reached for gpt-4o in organization org-xyz on tokens per min (TPM): Limit 30000, Used 29800, Requested 900."),
        ("error_500.json", 500, ErrorKind::Server, "The server had an error while processing your request. Sorry about that!"),
        ("error_503.json", 503, ErrorKind::Overloaded, "The engine is currently overloaded, please try again later"),
    ];
    for (name, status, kind, message) in cases {
        assert_eq!(
            decode_error(status, fixture(name)),
            ProviderError {
                status,
                kind,
                message: message.into()
            },
            "{name}"
        );
    }
    let html = decode_error(502, b"<html><body>502 Bad Gateway</body></html>\n");
    assert_eq!(html.kind, ErrorKind::Server);
    assert_eq!(html.message, "<html><body>502 Bad Gateway</body></html>");
    assert_eq!(decode_error(504, b"").message, "HTTP 504");
}

#[test]
fn errors_encode_as_openai_error_bodies_and_round_trip() {
    let cases = [
        (
            400,
            ErrorKind::InvalidRequest,
            "invalid_request_error",
            Value::Null,
        ),
        (
            401,
            ErrorKind::Authentication,
            "authentication_error",
            json!("invalid_api_key"),
        ),
        (
            403,
            ErrorKind::PermissionDenied,
            "permission_error",
            Value::Null,
        ),
        (404, ErrorKind::NotFound, "not_found_error", Value::Null),
        (
            429,
            ErrorKind::RateLimited,
            "rate_limit_error",
            json!("rate_limit_exceeded"),
        ),
        (
            503,
            ErrorKind::Overloaded,
            "server_error",
            json!("overloaded"),
        ),
        (500, ErrorKind::Server, "server_error", Value::Null),
    ];
    for (status, kind, kind_name, code) in cases {
        let error = ProviderError {
            status,
            kind,
            message: "nope".into(),
        };
        let body = encode_error(&error);
        assert_eq!(
            json_of(&body),
            json!({ "error": { "message": "nope", "type": kind_name, "param": null, "code": code } })
        );
        assert_eq!(decode_error(status, &body), error);
        // Mid-stream, without a status, the kind and status come back from type and code.
        let events = [
            start("c", "m"),
            StreamEvent::Error(error.clone()),
            StreamEvent::End,
        ];
        let bytes = encode_stream(&app_request(true), &events);
        assert_eq!(
            decode_stream(&bytes, &[]).expect("the stream decodes"),
            events.to_vec()
        );
    }
}
