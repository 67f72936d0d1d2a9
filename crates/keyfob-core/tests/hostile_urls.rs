//! The request rules through the public API, as the wasm glue calls them.
//!
//! Hostile cases carry the page's point of view: it controls the URL, the method and
//! the headers, and wants the key to go anywhere but the provider's allow-listed paths.
//! Every hostile case must be refused before anything is sent; every SDK URL must plan
//! to the exact upstream URL.

use keyfob_core::grants::GrantBook;
use keyfob_core::providers::{self, Endpoint, Provider};
use keyfob_core::random::RandomSource;
use keyfob_core::request::{plan, PageRequest, UpstreamPlan};
use keyfob_core::secret::SecretString;
use keyfob_core::session::{derive_session_key, session_key_from_headers, verify_session_key};
use keyfob_core::CoreError;
use proptest::prelude::*;

fn provider(id: &str) -> &'static Provider {
    providers::find(id).expect("registered provider")
}

fn plan_url(p: &Provider, method: &str, url: &str) -> Result<UpstreamPlan, CoreError> {
    plan(
        p,
        None,
        &PageRequest {
            method,
            url,
            headers: &[],
        },
    )
}

fn fixed_providers() -> impl Iterator<Item = (&'static Provider, &'static str)> {
    providers::all()
        .iter()
        .filter_map(|p| p.fixed_host().map(|h| (p, h)))
}

/// A legitimate (method, path) per fixed provider, used to build the hostile variants
/// so that only the hostile part can be the reason for a refusal.
fn sample(id: &str) -> (&'static str, &'static str) {
    match id {
        "anthropic" => ("POST", "/v1/messages"),
        "gemini" => ("POST", "/v1beta/models/gemini-2.5-flash:generateContent"),
        "cohere" => ("POST", "/v2/chat"),
        "deepseek" | "perplexity" => ("POST", "/chat/completions"),
        "groq" => ("POST", "/openai/v1/chat/completions"),
        "fireworks" => ("POST", "/inference/v1/chat/completions"),
        "openrouter" => ("POST", "/api/v1/chat/completions"),
        _ => ("POST", "/v1/chat/completions"),
    }
}

#[test]
fn samples_are_accepted_so_the_hostile_table_tests_something() {
    for (p, host) in fixed_providers() {
        let (method, path) = sample(p.id);
        let plan = plan_url(p, method, &format!("https://{host}{path}"));
        assert_eq!(
            plan.map(|p| p.url),
            Ok(format!("https://{host}{path}")),
            "{}",
            p.id
        );
    }
}

#[test]
fn fail_hostile_urls_for_every_fixed_provider() {
    for (p, host) in fixed_providers() {
        let (method, path) = sample(p.id);
        let hostile = [
            format!("https://evil.test{path}"),
            format!("https://{host}.evil.test{path}"),
            format!("https://evil-{host}{path}"),
            format!("https://evil.test/{host}{path}"),
            format!("https://{host}@evil.test{path}"),
            format!("https://user:pass@{host}{path}"),
            format!("https://user@{host}{path}"),
            format!("https://@{host}{path}"),
            // Found by the proptest below: an escape in the host reached IDNA.
            format!("https://{host}A%A0{path}"),
            format!("https://{host}%2e{path}"),
            format!("https://{host}%2eevil.test{path}"),
            format!("https://{host}\\@evil.test{path}"),
            format!("https://evil.test\\{host}{path}"),
            format!("https://{host}.{path}"),
            format!("https://{host}:8443{path}"),
            format!("https://{host}:80{path}"),
            format!("https://{host}:444{path}"),
            format!("http://{host}{path}"),
            format!("wss://{host}{path}"),
            format!("ftp://{host}{path}"),
            format!("https:{host}{path}"),
            format!("//{host}{path}"),
            path.to_string(),
            format!("https://{host}:{path}"),
            format!("https://{host}:0443{path}"),
            format!(
                "https://api%2e{}{path}",
                host.split_once('.').map_or(host, |(_, rest)| rest)
            ),
            format!("https://127.0.0.1{path}"),
            format!("https://1.2.3.4{path}"),
            format!("https://[::1]{path}"),
            format!("https://0x7f000001{path}"),
            format!("https://{}{path}", host.replacen('a', "а", 1)), // Cyrillic а
            format!("https://{}{path}", host.replacen('i', "і", 1)), // Ukrainian і
            format!("https://{host}{path}?key=kfs_session"),
            format!("https://{host}{path}?alt=sse&KEY=x"),
            format!("https://{host}{path}?k%65y=x"),
            // Google system parameters: a key, OAuth token, billing project, method or
            // body type of the page's choosing, or an answer the meter cannot read.
            format!("https://{host}{path}?$key=x"),
            format!("https://{host}{path}?%24key=x"),
            format!("https://{host}{path}?alt=sse&%24KEY=x"),
            format!("https://{host}{path}?oauth_token=x"),
            format!("https://{host}{path}?$userProject=other"),
            format!("https://{host}{path}?userProject=other"),
            format!("https://{host}{path}?quotaUser=other"),
            format!("https://{host}{path}?$httpMethod=DELETE"),
            format!("https://{host}{path}?$ct=text/plain"),
            format!("https://{host}{path}?callback=f"),
            format!("https://{host}{path}?$fields=candidates"),
            format!("https://{host}{path}?alt=proto"),
            format!("https://{host}{path}?$apiVersion=v9"),
            format!("https://{host}{path}?alt=sse;$key=x"),
            format!("https://{host}{path}?%2524key=x"),
            format!("https://{host}/v1/%2e%2e/organization"),
            format!("https://{host}/v1/%2E%2E/v1/organization/api_keys"),
            format!("https://{host}/v1/../v1/organization/api_keys"),
            format!("https://{host}{path}/../../v1/organization"),
            format!("https://{host}{path}/..%2f..%2fadmin"),
            format!("https://{host}{path}%2f..%2fadmin"),
            format!("https://{host}{path}%5c..%5cadmin"),
            format!("https://{host}/v1/.%2e/admin"),
            format!("https://{host}/v1/%252e%252e/admin"),
            format!("https://{host}/v1/%c0%ae%c0%ae/admin"),
            format!("https://{host}/./{path}"),
            format!("https://{host}/{path}"),
            format!("https://{host}{path}/"),
            format!("https://{host}{path}\\..\\admin"),
            format!("https://{host}{path};x=1"),
            format!("https://{host}{path}%00"),
            format!("https://{host}{path}\t"),
            format!("https://{host}{path}\r\nHost: evil.test"),
            format!("https://{host}#@evil.test{path}"),
            format!("https://{host}?@evil.test{path}"),
            format!("https://{host}/v1/organization/api_keys"),
            format!("https://{host}/v1/organizations/workspaces"),
            format!("https://{host}/v1/organization/usage/completions"),
            format!("https://{host}/v1/organization/costs"),
            format!("https://{host}/v1/admin/users"),
            format!("https://{host}/v1/api_keys"),
            format!("https://{host}/v1/projects"),
            format!("https://{host}/v1/dashboard/billing/usage"),
            format!("https://{host}/v1/usage"),
            format!("https://{host}/v1/fine_tuning/jobs"),
            format!("https://{host}/v1/realtime/client_secrets"),
            format!("https://{host}/v1/realtime/sessions"),
            format!("https://{host}/v1/api-key"),
            format!("https://{host}/api/v1/keys"),
            format!("https://{host}/api/v1/key"),
            format!("https://{host}/api/v1/credits"),
            format!("https://{host}/user/balance"),
            format!("https://{host}/"),
            format!("https://{host}"),
        ];
        let legit = format!("https://{host}{path}");
        assert!(
            hostile.iter().all(|u| *u != legit),
            "{}: a hostile case is the legit URL",
            p.id
        );
        for url in &hostile {
            let res = plan_url(p, method, url);
            assert!(
                matches!(
                    res,
                    Err(CoreError::UrlNotAllowed(_) | CoreError::BadRequest(_))
                ),
                "{}: {url:?} gave {res:?}",
                p.id
            );
        }
    }
}

/// Wildcard rules (`/v1/files/**`) admit any identifier segments, so encoded separators
/// and dots inside them must be refused by the raw-path checks, not the allow-list.
#[test]
fn fail_encoded_traversal_inside_wildcard_rules() {
    for (id, base) in [
        ("openai", "https://api.openai.com/v1/files/"),
        ("anthropic", "https://api.anthropic.com/v1/files/"),
        (
            "gemini",
            "https://generativelanguage.googleapis.com/v1beta/cachedContents/",
        ),
        ("openrouter", "https://openrouter.ai/api/v1/models/"),
    ] {
        let p = provider(id);
        assert!(
            plan_url(p, "GET", &format!("{base}x")).is_ok(),
            "{id}: sample must pass"
        );
        for tail in [
            "x%2f..%2f..%2fv1%2forganization",
            "x%2F%2E%2E%2Fadmin",
            "%2e%2e",
            "x%5c..%5cadmin",
            "x%252f..%252fadmin",
            "x%c0%af..%c0%afadmin",
            "x%0d%0aHost:evil",
            "x/..",
            "x/.",
            "x/",
            "x;/../admin",
        ] {
            let res = plan_url(p, "GET", &format!("{base}{tail}"));
            assert!(
                matches!(res, Err(CoreError::UrlNotAllowed(_))),
                "{id}: {tail} gave {res:?}"
            );
        }
    }
}

#[test]
fn fail_wrong_methods_on_allowed_paths() {
    let openai = provider("openai");
    for (method, url) in [
        (
            "DELETE",
            "https://api.openai.com/v1/models/ft:gpt-4o-mini:acme::abc",
        ),
        ("GET", "https://api.openai.com/v1/chat/completions"),
        (
            "GET",
            "https://api.openai.com/v1/chat/completions/chatcmpl-1/messages",
        ),
        ("DELETE", "https://api.openai.com/v1/batches/batch_1"),
        ("PUT", "https://api.openai.com/v1/files"),
        ("PATCH", "https://api.openai.com/v1/files"),
    ] {
        assert!(plan_url(openai, method, url).is_err(), "{method} {url}");
    }
}

#[test]
fn legitimate_sdk_urls_plan_to_the_exact_upstream_url() {
    let table = [
        ("anthropic", "POST", "https://api.anthropic.com/v1/messages"),
        ("anthropic", "POST", "https://api.anthropic.com/v1/messages/count_tokens"),
        ("anthropic", "GET", "https://api.anthropic.com/v1/models?limit=20"),
        ("anthropic", "GET", "https://api.anthropic.com/v1/messages/batches/msgbatch_01/results"),
        ("anthropic", "DELETE", "https://api.anthropic.com/v1/files/file_011"),
        ("openai", "POST", "https://api.openai.com/v1/chat/completions"),
        ("openai", "GET", "https://api.openai.com/v1/files"),
        ("openai", "POST", "https://api.openai.com/v1/files"),
        ("openai", "GET", "https://api.openai.com/v1/files/file-abc/content"),
        ("openai", "POST", "https://api.openai.com/v1/responses"),
        ("openai", "GET", "https://api.openai.com/v1/responses/resp_1/input_items?limit=10&order=asc"),
        ("openai", "GET", "https://api.openai.com/v1/models/ft%3Agpt-4o-mini%3Aacme%3A%3Aabc"),
        ("openai", "POST", "https://api.openai.com/v1/audio/transcriptions"),
        ("openai", "POST", "https://api.openai.com/v1/images/generations"),
        ("openai", "POST", "https://api.openai.com/v1/vector_stores/vs_1/files"),
        ("openai", "POST", "https://api.openai.com/v1/batches/batch_1/cancel"),
        ("openai", "POST", "https://api.openai.com/v1/uploads/upload_1/parts"),
        ("openai", "DELETE", "https://api.openai.com/v1/conversations/conv_1"),
        ("gemini", "POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"),
        ("gemini", "POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?%24alt=sse&prettyPrint=false"),
        ("gemini", "GET", "https://generativelanguage.googleapis.com/v1beta/files/abc-123?alt=media"),
        ("openai", "GET", "https://api.openai.com/v1/responses/resp_1"),
        ("openai", "POST", "https://api.openai.com/v1/responses/resp_1/cancel"),
        ("gemini", "POST", "https://generativelanguage.googleapis.com/v1/models/gemini-2.5-flash:generateContent"),
        ("gemini", "POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents"),
        ("gemini", "POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:countTokens"),
        ("gemini", "GET", "https://generativelanguage.googleapis.com/v1beta/models?pageSize=50"),
        ("gemini", "POST", "https://generativelanguage.googleapis.com/upload/v1beta/files?upload_id=AB-c_1&upload_protocol=resumable"),
        ("gemini", "GET", "https://generativelanguage.googleapis.com/v1beta/files/abc-123"),
        ("mistral", "POST", "https://api.mistral.ai/v1/fim/completions"),
        ("cohere", "POST", "https://api.cohere.com/v2/embed"),
        ("xai", "POST", "https://api.x.ai/v1/responses"),
        ("deepseek", "POST", "https://api.deepseek.com/v1/chat/completions"),
        ("perplexity", "POST", "https://api.perplexity.ai/search"),
        ("groq", "POST", "https://api.groq.com/openai/v1/audio/transcriptions"),
        ("together", "POST", "https://api.together.xyz/v1/embeddings"),
        ("fireworks", "GET", "https://api.fireworks.ai/inference/v1/models"),
        ("openrouter", "GET", "https://openrouter.ai/api/v1/models"),
    ];
    for (id, method, url) in table {
        assert_eq!(
            plan_url(provider(id), method, url).map(|p| p.url),
            Ok(url.to_string()),
            "{id} {url}"
        );
    }
    // Normalisations a browser does anyway: explicit :443, upper-case host, fragment.
    assert_eq!(
        plan_url(
            provider("openai"),
            "post",
            "https://API.OPENAI.COM:443/v1/chat/completions#x"
        )
        .map(|p| (p.url, p.method)),
        Ok((
            "https://api.openai.com/v1/chat/completions".into(),
            "POST".into()
        ))
    );
}

#[test]
fn headers_are_filtered_and_the_key_goes_last() {
    let headers: Vec<(String, String)> = [
        ("Authorization", "Bearer kfs_page_session"),
        ("x-api-key", "kfs_page_session"),
        ("X-Goog-Api-Key", "kfs_page_session"),
        ("api-key", "kfs_page_session"),
        ("Content-Type", "application/json"),
        ("anthropic-version", "2026-10-21"),
        ("anthropic-beta", "files-api-2025-04-14"),
        ("Cookie", "sid=1"),
        ("Host", "evil.test"),
        ("Origin", "https://evil.test"),
        ("Referer", "https://evil.test/"),
        ("Proxy-Authorization", "Basic x"),
        ("Sec-Fetch-Mode", "cors"),
        ("X-Keyfob-Debug", "1"),
        ("X-Stainless-Lang", "js"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    let req = PageRequest {
        method: "POST",
        url: "https://api.anthropic.com/v1/messages",
        headers: &headers,
    };
    let planned = plan(provider("anthropic"), None, &req).expect("allowed");
    let names: Vec<&str> = planned.headers().iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "content-type",
            "anthropic-beta",
            "anthropic-version",
            "anthropic-dangerous-direct-browser-access"
        ]
    );
    let out = planned.into_headers_with_key(&SecretString::from("sk-ant-real-key".to_string()));
    assert_eq!(
        out.last(),
        Some(&("x-api-key".to_string(), "sk-ant-real-key".to_string()))
    );
    assert!(
        out.iter().all(|(_, v)| !v.contains("kfs_page_session")),
        "{out:?}"
    );
    assert_eq!(
        out.iter()
            .find(|(n, _)| n == "anthropic-version")
            .map(|(_, v)| v.as_str()),
        Some("2026-10-21")
    );
    assert_eq!(out.iter().filter(|(n, _)| n == "x-api-key").count(), 1);
}

#[test]
fn method_overrides_and_account_switches_never_go_upstream() {
    let page: Vec<(String, String)> = [
        ("Content-Type", "application/json"),
        ("X-HTTP-Method-Override", "DELETE"),
        ("X-HTTP-Method", "DELETE"),
        ("X-Method-Override", "DELETE"),
        ("X-Goog-User-Project", "someone-elses-project"),
        ("X-Goog-Quota-User", "u"),
        ("X-Goog-FieldMask", "candidates"),
        ("OpenAI-Organization", "org-other"),
        ("OpenAI-Project", "proj_other"),
        ("Anthropic-Workspace-Id", "wrkspc_other"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .collect();
    for (p, host) in fixed_providers() {
        let (method, path) = sample(p.id);
        let url = format!("https://{host}{path}");
        let planned = plan(
            p,
            None,
            &PageRequest {
                method,
                url: &url,
                headers: &page,
            },
        )
        .expect("allowed");
        let sent = planned.into_headers_with_key(&SecretString::from("k".to_string()));
        for (name, _) in &page[1..] {
            assert!(
                sent.iter().all(|(n, _)| !n.eq_ignore_ascii_case(name)),
                "{}: {name} went upstream",
                p.id
            );
        }
    }
}

#[test]
fn per_credential_providers_rebase_onto_the_stored_base_url() {
    let compat = provider("openai_compatible");
    let req = PageRequest {
        method: "POST",
        url: "https://api.openai.com/v1/chat/completions",
        headers: &[],
    };
    let planned = plan(compat, Some("http://127.0.0.1:11434/v1"), &req).expect("allowed");
    assert_eq!(planned.url, "http://127.0.0.1:11434/v1/chat/completions");
    let req = PageRequest {
        method: "GET",
        url: "http://localhost:1/v1/models",
        headers: &[],
    };
    let planned = plan(compat, Some("https://llm.example.com/api/v1/"), &req).expect("allowed");
    assert_eq!(planned.url, "https://llm.example.com/api/v1/models");
    for url in [
        "https://x.test/v1/organization/api_keys",
        "https://x.test/chat/completions",
        "https://x.test/v1/../v1/x",
    ] {
        let req = PageRequest {
            method: "POST",
            url,
            headers: &[],
        };
        assert!(
            plan(compat, Some("http://127.0.0.1:11434/v1"), &req).is_err(),
            "{url}"
        );
    }
    assert!(matches!(
        plan(
            compat,
            Some("http://10.0.0.2:11434/v1"),
            &PageRequest {
                method: "GET",
                url: "https://x.test/v1/models",
                headers: &[]
            }
        ),
        Err(CoreError::InvalidInput(_))
    ));

    let azure = provider("azure_openai");
    let url =
        "https://page.invalid/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    let req = PageRequest {
        method: "POST",
        url,
        headers: &[],
    };
    let planned = plan(azure, Some("https://myres.openai.azure.com/"), &req).expect("allowed");
    assert_eq!(planned.url, "https://myres.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21");
    for base in [
        "http://127.0.0.1:8080",
        "http://localhost",
        "https://evil.test",
        "https://myres.openai.azure.com.evil.test",
    ] {
        assert!(
            matches!(
                plan(azure, Some(base), &req),
                Err(CoreError::InvalidInput(_))
            ),
            "{base}"
        );
    }
    let req = PageRequest {
        method: "POST",
        url: "https://x/openai/deployments/d/chat/completions?api-key=kfs_x",
        headers: &[],
    };
    assert!(plan(azure, Some("https://myres.openai.azure.com"), &req).is_err());
}

#[test]
fn session_keys_bind_origin_and_grant() {
    let secret = [42u8; 32];
    let key = derive_session_key(&secret, "https://app.example", "nonce-1");
    assert_eq!(
        verify_session_key(&secret, "https://app.example", "nonce-1", &key),
        Ok(())
    );
    let bad = [
        ("https://evil.example", "nonce-1", key.clone()),
        ("https://app.example", "nonce-2", key.clone()),
        (
            "https://app.example",
            "nonce-1",
            key[..key.len() - 2].to_string(),
        ),
        ("https://app.example", "nonce-1", String::new()),
    ];
    for (origin, nonce, presented) in bad {
        assert_eq!(
            verify_session_key(&secret, origin, nonce, &presented),
            Err(CoreError::SessionInvalid)
        );
    }
    let headers = vec![("authorization".to_string(), format!("Bearer {key}"))];
    assert_eq!(session_key_from_headers(&headers), Some(key.as_str()));
}

struct CountingRandom(u8);

impl RandomSource for CountingRandom {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CoreError> {
        self.0 = self.0.wrapping_add(1);
        dest.fill(self.0);
        Ok(())
    }
}

#[test]
fn grants_approve_merge_revoke_and_expire() {
    let mut book = GrantBook::default();
    let mut rng = CountingRandom(0);
    let site = "https://app.example";
    let nonce = book
        .approve(site, vec!["openai".into()], 0, Some(1_000), &mut rng)
        .expect("ok")
        .nonce
        .clone();
    let merged = book
        .approve(site, vec!["gemini".into()], 10, Some(2_000), &mut rng)
        .expect("ok");
    assert_eq!(
        (merged.nonce.as_str(), merged.providers.len()),
        (nonce.as_str(), 2)
    );
    assert!(book.check(site, "gemini", 1_999).is_ok());
    assert_eq!(
        book.check(site, "gemini", 2_000).map(|_| ()),
        Err(CoreError::GrantExpired)
    );
    assert!(book.revoke(site));
    assert_eq!(
        book.check(site, "openai", 0).map(|_| ()),
        Err(CoreError::OriginNotApproved)
    );
    let fresh = book
        .approve(site, vec!["openai".into()], 3_000, None, &mut rng)
        .expect("ok");
    assert_ne!(fresh.nonce, nonce);
}

fn fixed_provider_strategy() -> impl Strategy<Value = &'static Provider> {
    let fixed: Vec<&'static Provider> = providers::all()
        .iter()
        .filter(|p| matches!(p.endpoint, Endpoint::Fixed { .. }))
        .collect();
    proptest::sample::select(fixed)
}

proptest! {
    /// Any page URL whose host is not exactly the provider's never plans.
    #[test]
    fn other_hosts_never_plan(
        p in fixed_provider_strategy(),
        prefix in "[a-z0-9.@:-]{0,6}",
        suffix in "[a-z0-9.@:%-]{0,6}",
        random_host in "[a-z0-9-]{1,10}(\\.[a-z0-9-]{1,10}){0,3}",
        use_random in any::<bool>(),
    ) {
        let host = p.fixed_host().unwrap_or_default();
        let candidate = if use_random { random_host } else { format!("{prefix}{host}{suffix}") };
        let (method, path) = sample(p.id);
        let url = format!("https://{candidate}{path}");
        let parsed_host = url::Url::parse(&url).ok().and_then(|u| u.host_str().map(str::to_string));
        let res = plan_url(p, method, &url);
        let plain = candidate == host || candidate == format!("{host}:443");
        if parsed_host.as_deref() != Some(host) || !plain {
            prop_assert!(res.is_err(), "{url} planned to {res:?}");
        }
    }

    /// Whatever the page sends, a plan only ever targets the provider's origin.
    #[test]
    fn plans_only_target_the_provider_origin(
        p in fixed_provider_strategy(),
        tail in "[ -~]{0,40}",
        method in prop::sample::select(vec!["GET", "POST", "DELETE"]),
    ) {
        let host = p.fixed_host().unwrap_or_default();
        let url = format!("https://{host}{tail}");
        if let Ok(planned) = plan_url(p, method, &url) {
            let prefix = format!("https://{host}/");
            prop_assert!(planned.url.starts_with(&prefix), "{}", planned.url);
            prop_assert!(!planned.url.contains("..") && !planned.url[8..].contains("//"));
            prop_assert!(p.check_path(method, url::Url::parse(&planned.url).map(|u| u.path().to_string()).unwrap_or_default().as_str()).is_ok());
        }
    }
}
