//! Error bodies, whole and mid-stream.

use super::*;

// ---- errors ----

#[test]
fn error_bodies_decode_and_encode_per_kind() {
    for (wire, status, kind) in [
        ("invalid_request_error", 400, ErrorKind::InvalidRequest),
        ("authentication_error", 401, ErrorKind::Authentication),
        ("permission_error", 403, ErrorKind::PermissionDenied),
        ("not_found_error", 404, ErrorKind::NotFound),
        ("rate_limit_error", 429, ErrorKind::RateLimited),
        ("api_error", 500, ErrorKind::Server),
        ("overloaded_error", 529, ErrorKind::Overloaded),
    ] {
        let error = anthropic::decode_error(status, &fixture(&format!("error_{wire}.json")));
        let want = ProviderError {
            status,
            kind,
            message: format!("{wire} message"),
        };
        assert_eq!(error, want);
        assert_eq!(
            json_of(&anthropic::encode_error(&want)),
            json!({"type": "error", "error": {"type": wire, "message": format!("{wire} message")}})
        );
    }
    let html = anthropic::decode_error(502, b"<html>Bad gateway</html>");
    assert_eq!(
        html,
        ProviderError {
            status: 502,
            kind: ErrorKind::Server,
            message: "<html>Bad gateway</html>".into()
        }
    );
    let billing = br#"{"type":"error","error":{"type":"billing_error","message":"no credit"}}"#;
    assert_eq!(
        anthropic::decode_error(402, billing).kind,
        ErrorKind::InvalidRequest
    );
}

#[test]
fn the_encoder_raises_errors_the_sdk_way() {
    let request = ChatRequest::default();
    let error = ProviderError {
        status: 429,
        kind: ErrorKind::RateLimited,
        message: "slow down".into(),
    };
    let bytes = encode_stream(
        &request,
        &[
            StreamEvent::Start {
                id: "msg_x".into(),
                model: "m".into(),
            },
            StreamEvent::TextStart { index: 0 },
            StreamEvent::Error(error),
            StreamEvent::End,
        ],
    );
    let pairs = sse_pairs(&bytes);
    assert_eq!(
        pairs.last().unwrap(),
        &(
            "error".to_string(),
            json!({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})
        )
    );
    // Ended without a stop reason: an error, never a silently complete answer.
    let cut = encode_stream(
        &request,
        &[StreamEvent::TextStart { index: 0 }, StreamEvent::End],
    );
    let pairs = sse_pairs(&cut);
    assert_eq!(pairs.last().unwrap().0, "error");
    assert_eq!(pairs.last().unwrap().1["error"]["type"], json!("api_error"));
}
