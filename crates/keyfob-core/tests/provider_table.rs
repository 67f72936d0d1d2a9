//! Walks the whole provider table (`keyfob_core::providers::all()`) and checks the
//! invariants every row must keep: each would fail if a row's fact were wrong, and a
//! new row is checked the moment it is added (a provider without a usage sample below
//! fails `every_provider_reads_a_usage_sample_of_its_own_format`).
//!
//! The usage samples are written by hand in each provider's documented response shape
//! (the API reference named next to each); none was captured from a live API.

use std::collections::BTreeSet;

use keyfob_core::metering::{self, request_body, Metered, ResponseMeter, Usage};
use keyfob_core::providers::{
    self, Dialect, Endpoint, KeyTest, MeterClass, ModelIn, PathRule, Pricing, Provider, Rebase,
};
use keyfob_core::request::{self, plan, PageRequest};

/// A base URL each per-credential provider accepts, for planning page requests.
fn base_url(p: &Provider) -> Option<&'static str> {
    match (p.endpoint, p.rebase) {
        (Endpoint::Fixed { .. }, _) => None,
        (_, Rebase::OntoOrigin) => Some("https://res.openai.azure.com"),
        (_, _) => Some("http://127.0.0.1:11434/v1"),
    }
}

/// The page origin a request is planned from.
fn origin(p: &Provider) -> &'static str {
    match p.endpoint {
        Endpoint::Fixed { origin } => origin,
        Endpoint::CredentialBaseUrl { .. } => "https://keyfob.invalid",
    }
}

/// A concrete path for `rule`: every wildcard an id, and where the provider takes the
/// model from the path, `model` in that place.
fn sample_path(p: &Provider, rule: &PathRule, model: &str) -> String {
    let after = match p.model_in {
        ModelIn::PathAfter { after, .. } => Some(after),
        ModelIn::Body => None,
    };
    let mut previous = "";
    let mut out = Vec::new();
    for segment in rule.pattern.split('/') {
        let id = if Some(previous) == after {
            model
        } else {
            "x-1"
        };
        out.push(match segment {
            "**" => id.to_string(),
            "*" => id.to_string(),
            s if s.starts_with("*:") => format!("{id}{}", &s[1..]),
            s => s.to_string(),
        });
        previous = segment;
    }
    out.join("/")
}

/// The methods a rule admits, from GET, POST and DELETE.
fn methods(rule: &PathRule) -> Vec<&'static str> {
    ["GET", "POST", "DELETE"]
        .into_iter()
        .filter(|m| rule.methods.allows(m))
        .collect()
}

fn json_naming(model: &str) -> Vec<u8> {
    format!(r#"{{"model":"{model}","messages":[{{"role":"user","content":"hello there"}}]}}"#)
        .into_bytes()
}

#[test]
fn ids_and_names_are_unique_and_every_row_is_findable() {
    let mut ids = BTreeSet::new();
    let mut names = BTreeSet::new();
    for p in providers::all() {
        assert!(ids.insert(p.id), "duplicate id {}", p.id);
        assert!(names.insert(p.name), "duplicate name {}", p.name);
        assert!(
            !p.id.is_empty() && p.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{}",
            p.id
        );
        assert_eq!(providers::find(p.id).map(|f| f.id), Ok(p.id));
    }
}

#[test]
fn every_provider_has_an_allow_list_that_can_generate() {
    for p in providers::all() {
        assert!(!p.paths.is_empty(), "{}", p.id);
        assert!(
            p.paths
                .iter()
                .any(|r| r.meter.generates() && r.methods.allows("POST")),
            "{} has no generating POST rule",
            p.id
        );
    }
}

#[test]
fn every_key_test_is_a_get_its_own_rules_allow_and_plans_to_its_own_origin() {
    for p in providers::all() {
        match p.key_test {
            KeyTest::ListModels(path) => {
                assert!(p.check_path("GET", path).is_ok(), "{}: {path}", p.id);
                let rule = p.rule_for(Some("GET"), path).expect("admitted");
                assert_eq!(rule.meter, MeterClass::Free, "{}: a key test is free", p.id);
                let planned = request::plan_key_test(p, base_url(p)).expect(p.id);
                assert_eq!(planned.method, "GET", "{}", p.id);
                if let Endpoint::Fixed { origin } = p.endpoint {
                    assert_eq!(planned.url, format!("{origin}{path}"), "{}", p.id);
                }
                assert_eq!(request::key_test_path(p), Some(path));
            }
            KeyTest::None { why } => {
                assert!(why.len() > 10, "{}: say why there is no test", p.id);
                assert_eq!(request::key_test_path(p), None);
            }
        }
    }
}

#[test]
fn key_prefixes_are_unique_to_their_provider_and_guess_it() {
    let mut seen = BTreeSet::new();
    for p in providers::all() {
        for prefix in p.key_prefixes {
            assert!(prefix.len() >= 3 && *prefix != "sk-", "{}: {prefix}", p.id);
            assert!(seen.insert(*prefix), "{prefix} is listed twice");
            assert_eq!(
                providers::guess_provider(&format!("{prefix}abc123")),
                Some(p.id),
                "{prefix}"
            );
        }
        assert_eq!(providers::key_prefixes(p.id), p.key_prefixes);
    }
}

/// The class of a path comes from the rule that admits it, whichever way it is looked
/// up: with the method (the wallet), or without (`read_request`). A specific rule put
/// after a general one that also matches its paths fails here.
#[test]
fn every_rule_decides_the_class_of_its_own_paths() {
    for p in providers::all() {
        for rule in p.paths {
            let path = sample_path(p, rule, "m-1");
            let first = p.rule_for(None, &path).expect("admitted");
            assert_eq!(
                (first.meter, first.dialect),
                (rule.meter, rule.dialect),
                "{} {path}: first matched {}",
                p.id,
                first.pattern
            );
            for method in methods(rule) {
                let found = p.rule_for(Some(method), &path).expect("admitted");
                assert_eq!(found.meter, rule.meter, "{} {method} {path}", p.id);
            }
        }
    }
}

#[test]
fn meter_classes_fit_their_rules() {
    for p in providers::all() {
        for rule in p.paths {
            let reads_only = !rule.methods.allows("POST");
            assert!(
                !reads_only || rule.meter == MeterClass::Free,
                "{} {}: a GET/DELETE-only rule bills nothing",
                p.id,
                rule.pattern
            );
            if rule.meter == MeterClass::Completion {
                assert!(rule.pattern.ends_with("/completions"), "{}", rule.pattern);
            }
        }
    }
}

/// Through the same calls the wallet makes: plan the page request, take the upstream
/// path, read its facts. The class must survive rebasing onto a base URL, including
/// base URLs with paths of their own.
#[test]
fn facts_follow_the_rule_through_planning() {
    let odd_bases = ["http://127.0.0.1:8080", "https://llm.example/api/openai/v1"];
    for p in providers::all() {
        let mut bases = vec![base_url(p)];
        if matches!(p.rebase, Rebase::ReplacePrefix(_)) {
            bases.extend(odd_bases.map(Some));
        }
        for base in bases {
            for rule in p.paths {
                let page_path = sample_path(p, rule, "m-1");
                for method in methods(rule) {
                    let url = format!("{}{page_path}", origin(p));
                    let planned = plan(
                        p,
                        base,
                        &PageRequest {
                            method,
                            url: &url,
                            headers: &[],
                        },
                    )
                    .unwrap_or_else(|e| panic!("{} {method} {url}: {e:?}", p.id));
                    let path = metering::audit::path_of(&planned.url);
                    let facts = request_body::facts(p.id, method, &path, Default::default())
                        .unwrap_or_else(|e| panic!("{} {path}: {e:?}", p.id));
                    assert_eq!(facts.billable, rule.meter.billable(), "{} {path}", p.id);
                    assert_eq!(
                        facts.generates,
                        method == "POST" && rule.meter.generates(),
                        "{} {method} {path}",
                        p.id
                    );
                    let read = request_body::read_request(p.id, &path, None, b"").expect("reads");
                    assert_eq!(read.billable, rule.meter.billable(), "{} {path}", p.id);
                    let asks = p.include_usage && rule.meter == MeterClass::Completion;
                    assert_eq!(
                        request_body::may_add_include_usage(p.id, &path),
                        asks,
                        "{} {path}",
                        p.id
                    );
                }
            }
        }
    }
}

#[test]
fn include_usage_is_added_only_where_the_row_allows() {
    for p in providers::all() {
        for rule in p.paths.iter().filter(|r| r.methods.allows("POST")) {
            let path = sample_path(p, rule, "m-1");
            let rewritten =
                request_body::add_include_usage(p.id, &path, br#"{"model":"m","stream":true}"#);
            let want = p.include_usage && rule.meter == MeterClass::Completion;
            assert_eq!(rewritten.is_some(), want, "{} {path}", p.id);
        }
    }
}

#[test]
fn the_model_is_read_where_the_row_says() {
    for p in providers::all() {
        for rule in p.paths.iter().filter(|r| r.meter.billable()) {
            let path = sample_path(p, rule, "from-path");
            let facts = request_body::read_request(
                p.id,
                &path,
                Some("application/json"),
                &json_naming("from-body"),
            )
            .expect("reads");
            let want = match p.model_in {
                ModelIn::PathAfter { after, cut_at } => {
                    let seg = rule.pattern.split('/').skip_while(|s| *s != after).nth(1);
                    match (seg, cut_at) {
                        (Some(s), Some(c)) if s.starts_with('*') && s.contains(c) => "from-path",
                        (Some("*"), None) => "from-path",
                        _ => "from-body",
                    }
                }
                ModelIn::Body => "from-body",
            };
            assert_eq!(facts.model.as_deref(), Some(want), "{} {path}", p.id);
        }
    }
}

/// Every billable rule prices every model of its provider's list above zero, and a
/// model no row knows (or any model at an unpriced provider) is unknown, never $0.
#[test]
fn known_models_cost_more_than_nothing_and_unknown_ones_are_unknown() {
    let usage = Usage {
        input_tokens: 1000,
        output_tokens: 100,
        ..Usage::default()
    };
    let complete = |u: Usage| Metered {
        usage: Some(u),
        model: None,
        complete: true,
    };
    for p in providers::all() {
        let known: Vec<&str> = match p.pricing {
            Pricing::Table(list) => metering::prices::PRICES
                .iter()
                .filter(|row| row.list == list)
                .flat_map(|row| row.prefixes.iter().copied())
                .collect(),
            Pricing::Reported | Pricing::Unknown => Vec::new(),
        };
        if let Pricing::Table(_) = p.pricing {
            assert!(!known.is_empty(), "{}: an empty price list", p.id);
        }
        for rule in p.paths.iter().filter(|r| r.methods.allows("POST")) {
            let billable = rule.meter.billable();
            for model in known
                .iter()
                .copied()
                .chain(["gpt-4o", "keyfob-no-such-model"])
            {
                let path = sample_path(p, rule, model);
                let facts = request_body::read_request(
                    p.id,
                    &path,
                    Some("application/json"),
                    &json_naming(model),
                )
                .expect("reads");
                assert_eq!(facts.metered(), billable, "{} {path}", p.id);
                let estimate = metering::estimate(p.id, &facts);
                let settled = metering::settlement(p.id, Some(model), &complete(usage), 200);
                let real = metering::cost_of_usage(p.id, Some(model), &usage);
                let is_known = known.contains(&model);
                if !billable {
                    assert_eq!(estimate.tokens, 0, "{} {path}", p.id);
                } else if is_known {
                    assert!(estimate.tokens > 0, "{} {path}", p.id);
                    assert!(estimate.cost_nano_usd > Some(0), "{} {model} {path}", p.id);
                    assert!(real > Some(0), "{} {model}", p.id);
                } else {
                    assert!(estimate.tokens > 0, "{} {path}", p.id);
                    assert_eq!(estimate.cost_nano_usd, None, "{} {model} {path}", p.id);
                    assert_eq!(real, None, "{} {model}", p.id);
                    assert_eq!(
                        settled,
                        metering::Settlement::Exact(metering::Amount {
                            tokens: 1100,
                            cost_nano_usd: None
                        }),
                        "{} {model}",
                        p.id
                    );
                }
            }
        }
        // A provider that reports its own cost is charged exactly that, and nothing is
        // guessed when the report is missing.
        let reported = Usage {
            reported_cost_nano_usd: Some(4321),
            ..usage
        };
        let trusted = metering::cost_of_usage(p.id, Some("keyfob-no-such-model"), &reported);
        let want = (p.pricing == Pricing::Reported).then_some(4321);
        assert_eq!(trusted, want, "{}", p.id);
    }
}

/// One call per provider in its own documented format (and one per rule that answers
/// in another dialect): the request, the response, the (input, output) tokens the
/// response reports, and whether the provider's prices know the model.
struct Sample {
    provider: &'static str,
    path: &'static str,
    request: &'static str,
    response: &'static str,
    tokens: (u64, u64),
    priced: bool,
}

const SAMPLES: &[Sample] = &[
    // docs.anthropic.com/en/api/messages: cache reads are not in `input_tokens`.
    Sample {
        provider: "anthropic",
        path: "/v1/messages",
        request: r#"{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{"role":"user","content":"Hi"}]}"#,
        response: r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","usage":{"input_tokens":10,"cache_read_input_tokens":90,"output_tokens":5}}"#,
        tokens: (100, 5),
        priced: true,
    },
    // platform.openai.com/docs/api-reference/chat/object.
    Sample {
        provider: "openai",
        path: "/v1/chat/completions",
        request: r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}"#,
        response: r#"{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#,
        tokens: (12, 3),
        priced: true,
    },
    // ai.google.dev/api/generate-content#generatecontentresponse.
    Sample {
        provider: "gemini",
        path: "/v1beta/models/gemini-2.5-flash:generateContent",
        request: r#"{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}"#,
        response: r#"{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":8,"candidatesTokenCount":2,"thoughtsTokenCount":4,"totalTokenCount":14},"modelVersion":"gemini-2.5-flash"}"#,
        tokens: (8, 6),
        priced: true,
    },
    // docs.mistral.ai/api (chat completion response).
    Sample {
        provider: "mistral",
        path: "/v1/chat/completions",
        request: r#"{"model":"mistral-small-latest","messages":[{"role":"user","content":"Hi"}]}"#,
        response: r#"{"id":"c1","object":"chat.completion","model":"mistral-small-latest","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":7,"total_tokens":27}}"#,
        tokens: (20, 7),
        priced: false,
    },
    // docs.cohere.com/reference/chat (v2): billed units, not template tokens.
    Sample {
        provider: "cohere",
        path: "/v2/chat",
        request: r#"{"model":"command-a-03-2025","messages":[{"role":"user","content":"Hi"}]}"#,
        response: r#"{"id":"c1","finish_reason":"COMPLETE","message":{"role":"assistant","content":[{"type":"text","text":"Hi"}]},"usage":{"billed_units":{"input_tokens":6,"output_tokens":4},"tokens":{"input_tokens":70,"output_tokens":4}}}"#,
        tokens: (6, 4),
        priced: true,
    },
    // docs.cohere.com/docs/compatibility-api: OpenAI's shape.
    Sample {
        provider: "cohere",
        path: "/compatibility/v1/chat/completions",
        request: r#"{"model":"command-a-03-2025","messages":[{"role":"user","content":"Hi"}]}"#,
        response: r#"{"id":"c2","object":"chat.completion","model":"command-a-03-2025","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}"#,
        tokens: (9, 2),
        priced: true,
    },
    // docs.x.ai/docs/api-reference (chat completions).
    Sample {
        provider: "xai",
        path: "/v1/chat/completions",
        request: r#"{"model":"grok-4","messages":[{"role":"user","content":"Hi"}]}"#,
        response: r#"{"id":"x1","object":"chat.completion","model":"grok-4","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":10,"total_tokens":40,"completion_tokens_details":{"reasoning_tokens":6}}}"#,
        tokens: (30, 10),
        priced: true,
    },
    // api-docs.deepseek.com/api/create-chat-completion.
    Sample {
        provider: "deepseek",
        path: "/chat/completions",
        request: r#"{"model":"deepseek-chat","messages":[{"role":"user","content":"Hi"}]}"#,
        response: r#"{"id":"d1","object":"chat.completion","model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":64,"completion_tokens":8,"total_tokens":72,"prompt_cache_hit_tokens":32,"prompt_cache_miss_tokens":32}}"#,
        tokens: (64, 8),
        priced: true,
    },
    // docs.perplexity.ai/api-reference/chat-completions-post.
    Sample {
        provider: "perplexity",
        path: "/chat/completions",
        request: r#"{"model":"sonar","messages":[{"role":"user","content":"Hi"}]}"#,
        response: r#"{"id":"p1","model":"sonar","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":11,"total_tokens":16}}"#,
        tokens: (5, 11),
        priced: false,
    },
    // console.groq.com/docs/api-reference#chat-create.
    Sample {
        provider: "groq",
        path: "/openai/v1/chat/completions",
        request: r#"{"model":"llama-3.1-8b-instant","messages":[{"role":"user","content":"Hi"}]}"#,
        response: r#"{"id":"g1","object":"chat.completion","model":"llama-3.1-8b-instant","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":14,"completion_tokens":2,"total_tokens":16}}"#,
        tokens: (14, 2),
        priced: true,
    },
    // docs.together.ai/reference/chat-completions-1.
    Sample {
        provider: "together",
        path: "/v1/chat/completions",
        request: r#"{"model":"meta-llama/Llama-3.3-70B-Instruct-Turbo","messages":[{"role":"user","content":"Hi"}]}"#,
        response: r#"{"id":"t1","object":"chat.completion","model":"meta-llama/Llama-3.3-70B-Instruct-Turbo","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":17,"completion_tokens":3,"total_tokens":20}}"#,
        tokens: (17, 3),
        priced: false,
    },
    // docs.fireworks.ai/api-reference/post-chatcompletions.
    Sample {
        provider: "fireworks",
        path: "/inference/v1/chat/completions",
        request: r#"{"model":"accounts/fireworks/models/llama-v3p1-8b-instruct","messages":[{"role":"user","content":"Hi"}]}"#,
        response: r#"{"id":"f1","object":"chat.completion","model":"accounts/fireworks/models/llama-v3p1-8b-instruct","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":21,"completion_tokens":4,"total_tokens":25}}"#,
        tokens: (21, 4),
        priced: false,
    },
    // openrouter.ai/docs/api-reference/chat-completion (usage accounting).
    Sample {
        provider: "openrouter",
        path: "/api/v1/chat/completions",
        request: r#"{"model":"openai/gpt-4o","messages":[{"role":"user","content":"Hi"}]}"#,
        response: r#"{"id":"gen-1","object":"chat.completion","model":"openai/gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15,"cost":0.0000125}}"#,
        tokens: (10, 5),
        priced: false,
    },
    // learn.microsoft.com/azure/ai-foundry/openai/reference (chat completions).
    Sample {
        provider: "azure_openai",
        path: "/openai/deployments/my-gpt/chat/completions",
        request: r#"{"messages":[{"role":"user","content":"Hi"}]}"#,
        response: r#"{"id":"a1","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":25,"completion_tokens":6,"total_tokens":31}}"#,
        tokens: (25, 6),
        priced: false,
    },
    // An OpenAI-compatible server (Ollama's /v1 answers in OpenAI's shape).
    Sample {
        provider: "openai_compatible",
        path: "/v1/chat/completions",
        request: r#"{"model":"llama3.2","messages":[{"role":"user","content":"Hi"}]}"#,
        response: r#"{"id":"o1","object":"chat.completion","model":"llama3.2","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":26,"completion_tokens":9,"total_tokens":35}}"#,
        tokens: (26, 9),
        priced: false,
    },
];

#[test]
fn every_provider_reads_a_usage_sample_of_its_own_format() {
    // Every provider has a sample, and so does every rule with a dialect of its own.
    for p in providers::all() {
        assert!(
            SAMPLES.iter().any(|s| s.provider == p.id),
            "{}: add a usage sample",
            p.id
        );
        for rule in p.paths.iter().filter(|r| r.dialect.is_some()) {
            let covered = SAMPLES.iter().any(|s| {
                s.provider == p.id
                    && p.rule_for(Some("POST"), s.path).map(|r| r.dialect) == Some(rule.dialect)
            });
            assert!(covered, "{} {}: add a usage sample", p.id, rule.pattern);
        }
    }
    let mut dialects = BTreeSet::new();
    for sample in SAMPLES {
        let (id, path) = (sample.provider, sample.path);
        let p = providers::find(id).expect("registered");
        // The request, as the provider's own SDK writes it, names a model where the
        // row says the model is, and is metered.
        let facts = request_body::read_request(
            id,
            path,
            Some("application/json"),
            sample.request.as_bytes(),
        )
        .expect("reads");
        assert!(facts.metered(), "{id} {path}: the request names no model");
        let mut meter = ResponseMeter::for_request(id, path, &facts, Some("application/json"));
        assert!(meter.is_reading(), "{id} {path}");
        meter.feed(sample.response.as_bytes());
        let got = meter.finish();
        assert!(got.complete, "{id} {path}");
        let u = got.usage.expect("usage");
        assert_eq!(
            (u.input_tokens, u.output_tokens),
            sample.tokens,
            "{id} {path}"
        );
        // The answering model is priced exactly where the provider's prices know it.
        let model = got.model.or(facts.model);
        let cost = metering::cost_of_usage(
            id,
            model.as_deref(),
            &Usage {
                reported_cost_nano_usd: None,
                ..u
            },
        );
        assert_eq!(cost.is_some_and(|c| c > 0), sample.priced, "{id} {model:?}");
        dialects.insert(format!("{:?}", metering::Dialect::for_request(p, path)));
    }
    // The samples exercise every dialect.
    let all = [
        Dialect::Anthropic,
        Dialect::OpenAi,
        Dialect::Gemini,
        Dialect::Cohere,
    ];
    for d in all {
        assert!(dialects.contains(&format!("{d:?}")), "{d:?}");
    }
}

/// The endpoints a dialect's encoder writes, for a model named `m`.
fn generation_endpoints(dialect: keyfob_core::route::Dialect) -> Vec<String> {
    use keyfob_core::route::{encode_request, ir::ChatRequest, ir::Message, ir::Part, ir::Role};
    [false, true]
        .into_iter()
        .map(|stream| {
            let request = ChatRequest {
                model: "m-1".into(),
                messages: vec![Message {
                    role: Role::User,
                    parts: vec![Part::Text("hi".into())],
                }],
                max_output_tokens: Some(16),
                stream,
                ..ChatRequest::default()
            };
            encode_request(dialect, &request).expect("encodes").endpoint
        })
        .collect()
}

#[test]
fn every_routing_dialect_a_row_speaks_is_on_its_allow_list_and_metered_in_its_shape() {
    use keyfob_core::route::Dialect as Wire;
    let mut routable = Vec::new();
    for p in providers::all() {
        for speaks in p.speaks {
            routable.push((p.id, speaks.dialect));
            assert!(
                speaks
                    .roots()
                    .all(|r| r.starts_with('/') && r.ends_with('/')),
                "{}",
                p.id
            );
            for endpoint in generation_endpoints(speaks.dialect) {
                let (path, query) = match endpoint.split_once('?') {
                    Some((path, q)) => (path.to_string(), Some(q)),
                    None => (endpoint.clone(), None),
                };
                for root in speaks.roots() {
                    let full = format!("{root}{path}");
                    // Each root an app may call is recognised as this call.
                    assert_eq!(
                        p.generation_endpoint(&full, query),
                        Some((speaks.dialect, endpoint.clone())),
                        "{} {full}",
                        p.id
                    );
                    let url = format!(
                        "{}{full}{}",
                        origin(p),
                        query.map_or(String::new(), |q| format!("?{q}"))
                    );
                    let page = PageRequest {
                        method: "POST",
                        url: &url,
                        headers: &[],
                    };
                    let planned = plan(p, base_url(p), &page)
                        .unwrap_or_else(|e| panic!("{} {url}: {e}", p.id));
                    let upstream = metering::audit::path_of(&planned.url);
                    // The meter reads the served answer in the dialect's own shape.
                    let usage = match speaks.dialect {
                        Wire::Anthropic => Dialect::Anthropic,
                        Wire::OpenAiChat | Wire::OpenAiResponses => Dialect::OpenAi,
                        Wire::Gemini => Dialect::Gemini,
                    };
                    assert_eq!(p.dialect_for(&upstream), usage, "{} {upstream}", p.id);
                    let rule = p.rule_for(Some("POST"), &upstream).expect("a rule");
                    assert!(rule.meter.generates(), "{} {upstream}", p.id);
                }
            }
            // The model list under the same root is not a generation call.
            let models = format!("{}models", speaks.root);
            assert_eq!(p.generation_endpoint(&models, None), None, "{}", p.id);
        }
    }
    assert_eq!(
        routable,
        [
            ("anthropic", Wire::Anthropic),
            ("openai", Wire::OpenAiChat),
            ("openai", Wire::OpenAiResponses),
            ("gemini", Wire::Gemini),
            ("mistral", Wire::OpenAiChat),
            ("xai", Wire::OpenAiChat),
            ("xai", Wire::OpenAiResponses),
            ("deepseek", Wire::OpenAiChat),
            ("groq", Wire::OpenAiChat),
            ("together", Wire::OpenAiChat),
            ("fireworks", Wire::OpenAiChat),
            ("openrouter", Wire::OpenAiChat),
            ("azure_openai", Wire::OpenAiChat),
            ("azure_openai", Wire::OpenAiResponses),
            ("openai_compatible", Wire::OpenAiChat),
        ]
    );
}
