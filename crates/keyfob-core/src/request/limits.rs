//! The bounds every entry point applies to a proxied request, decided here so the glue
//! only enforces them: how many exchanges a frame may hold open, how much body a request
//! may send, how long a provider may take.

/// Most exchanges one page frame may have open at once; more is a runaway or hostile page.
pub const MAX_OPEN_EXCHANGES: usize = 512;

/// Most body frames a request may send (512 KiB each → 2 GiB); more is abuse.
pub const MAX_BODY_FRAMES: usize = 4096;

/// How long the provider may take to answer with headers (non-streaming calls of long
/// generations take minutes; the SDKs' own default timeout is 10 minutes).
pub const UPSTREAM_HEADERS_TIMEOUT_MS: u32 = 600_000;

/// A key test waits this long for the provider's answer.
pub const KEY_TEST_TIMEOUT_MS: u32 = 15_000;
