//! Error bodies, whole and mid-stream.

use super::*;

// ---- errors ----

#[test]
fn error_bodies_decode_by_kind() {
    let cases = [
        ("error_400.json", 400, ErrorKind::InvalidRequest),
        ("error_400_api_key.json", 400, ErrorKind::Authentication),
        ("error_403.json", 403, ErrorKind::PermissionDenied),
        ("error_404.json", 404, ErrorKind::NotFound),
        ("error_429.json", 429, ErrorKind::RateLimited),
        ("error_500.json", 500, ErrorKind::Server),
        ("error_503.json", 503, ErrorKind::Overloaded),
    ];
    for (name, status, kind) in cases {
        let body = fixture(name);
        let error = gemini::decode_error(status, &body);
        assert_eq!((error.status, error.kind), (status, kind), "{name}");
        let value = body_json(&body);
        let inner = value.get(0).unwrap_or(&value);
        assert_eq!(
            Some(error.message.as_str()),
            inner["error"]["message"].as_str(),
            "{name}"
        );
    }
    let framed = gemini::decode_error(
        429,
        br#"data: {"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}}"#,
    );
    assert_eq!(
        (framed.kind, framed.message.as_str()),
        (ErrorKind::RateLimited, "quota")
    );
    let plain = gemini::decode_error(502, b"Bad Gateway");
    assert_eq!(
        (plain.kind, plain.message.as_str()),
        (ErrorKind::Server, "Bad Gateway")
    );
}

#[test]
fn errors_encode_with_code_message_status() {
    let cases = [
        (ErrorKind::InvalidRequest, 400, "INVALID_ARGUMENT"),
        (ErrorKind::Authentication, 401, "UNAUTHENTICATED"),
        (ErrorKind::PermissionDenied, 403, "PERMISSION_DENIED"),
        (ErrorKind::NotFound, 404, "NOT_FOUND"),
        (ErrorKind::RateLimited, 429, "RESOURCE_EXHAUSTED"),
        (ErrorKind::Overloaded, 529, "UNAVAILABLE"),
        (ErrorKind::Server, 500, "INTERNAL"),
    ];
    for (kind, status, name) in cases {
        let error = ProviderError {
            status,
            kind,
            message: "nope".into(),
        };
        let body = gemini::encode_error(&error);
        assert_eq!(
            body_json(&body),
            json!({"error": {"code": status, "message": "nope", "status": name}})
        );
        assert_eq!(gemini::decode_error(status, &body), error);
    }
}

#[test]
fn encoder_ends_an_error_as_gemini_does() {
    use StreamEvent::*;
    let bytes = encode_events(&[
        Start {
            id: "r".into(),
            model: "m".into(),
        },
        TextStart { index: 0 },
        TextDelta {
            index: 0,
            text: "Hi".into(),
        },
        Error(ProviderError {
            status: 429,
            kind: ErrorKind::RateLimited,
            message: "slow down".into(),
        }),
        End,
    ]);
    let text = String::from_utf8(bytes).expect("utf-8");
    let (chunk, error) = text.split_once("\n\n").expect("one chunk first");
    assert!(chunk.starts_with("data: {\"candidates\""));
    // Bare JSON, no `data:`: what @google/genai raises as ApiError.
    assert_eq!(
        body_json(error.as_bytes()),
        json!({"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}})
    );
}
