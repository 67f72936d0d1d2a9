//! The glue, run for real in headless Chromium (a service worker, like the extension's).
//! `chrome.*` is replaced by an in-memory fake so the engine's storage, commands and
//! error mapping are exercised exactly as compiled for the extension.
#![cfg(target_arch = "wasm32")]

use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_service_worker);

#[wasm_bindgen(inline_js = r#"
export function installFakeChrome() {
  const area = () => {
    const data = new Map();
    return {
      data,
      async get(keys) { const out = {}; for (const k of keys) if (data.has(k)) out[k] = data.get(k); return out; },
      async set(items) { for (const [k, v] of Object.entries(items)) data.set(k, v); },
      async remove(keys) { for (const k of keys) data.delete(k); },
    };
  };
  globalThis.chrome = {
    runtime: { id: 'testextensionid' },
    storage: { local: area(), session: area() },
    windows: { async create() { return { id: 7 }; } },
    action: { async setBadgeText() {} },
  };
}
export function storedText(areaName) {
  return JSON.stringify([...globalThis.chrome.storage[areaName].data.entries()]);
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = installFakeChrome)]
    fn install_fake_chrome();
    #[wasm_bindgen(js_name = storedText)]
    fn stored_text(area: &str) -> String;
}

fn own_page() -> JsValue {
    let sender = js_sys::Object::new();
    Reflect::set(
        &sender,
        &"url".into(),
        &"chrome-extension://testextensionid/popup/popup.html".into(),
    )
    .expect("set url");
    sender.into()
}

async fn command(json: &str, sender: JsValue) -> JsValue {
    let message = js_sys::JSON::parse(json).expect("valid test json");
    keyfob_wasm::handle_message(message, sender).await
}

fn ok_value(reply: &JsValue) -> JsValue {
    assert_eq!(
        Reflect::get(reply, &"ok".into()).expect("ok"),
        JsValue::TRUE,
        "{reply:?}"
    );
    Reflect::get(reply, &"value".into()).expect("value")
}

fn error_code(reply: &JsValue) -> String {
    assert_eq!(
        Reflect::get(reply, &"ok".into()).expect("ok"),
        JsValue::FALSE,
        "{reply:?}"
    );
    let error = Reflect::get(reply, &"error".into()).expect("error");
    Reflect::get(&error, &"code".into())
        .expect("code")
        .as_string()
        .expect("string code")
}

fn state_of(reply: &JsValue) -> String {
    Reflect::get(&ok_value(reply), &"state".into())
        .expect("state")
        .as_string()
        .expect("string")
}

#[wasm_bindgen_test]
async fn vault_lifecycle_through_the_command_api() {
    install_fake_chrome();
    let page = own_page;
    assert_eq!(
        state_of(&command(r#"{"cmd":"vault.status"}"#, page()).await),
        "missing"
    );
    let created = command(
        r#"{"cmd":"vault.create","password":"correct horse battery"}"#,
        page(),
    )
    .await;
    assert_eq!(state_of(&created), "unlocked");

    let added = command(
        r#"{"cmd":"credentials.add","provider":"openai","label":"Work","secret":"sk-test-SECRETVALUE-1234"}"#,
        page(),
    )
    .await;
    ok_value(&added);

    // Nothing in either storage area holds the key or the password in plaintext.
    for area in ["local", "session"] {
        let text = stored_text(area);
        assert!(
            !text.contains("SECRETVALUE"),
            "{area} storage leaks the key"
        );
        assert!(
            !text.contains("correct horse"),
            "{area} storage leaks the password"
        );
    }

    assert_eq!(
        state_of(&command(r#"{"cmd":"vault.lock"}"#, page()).await),
        "locked"
    );
    let listed = command(r#"{"cmd":"credentials.list"}"#, page()).await;
    assert_eq!(error_code(&listed), "WALLET_LOCKED");

    let wrong = command(
        r#"{"cmd":"vault.unlock","password":"not the password"}"#,
        page(),
    )
    .await;
    assert_eq!(error_code(&wrong), "WRONG_PASSWORD");
    let right = command(
        r#"{"cmd":"vault.unlock","password":"correct horse battery"}"#,
        page(),
    )
    .await;
    assert_eq!(state_of(&right), "unlocked");

    let listed = ok_value(&command(r#"{"cmd":"credentials.list"}"#, page()).await);
    let text = js_sys::JSON::stringify(&listed)
        .expect("json")
        .as_string()
        .expect("string");
    assert!(text.contains("Work") && text.contains("1234"), "{text}");
    assert!(
        !text.contains("SECRETVALUE"),
        "the list must not carry the key: {text}"
    );
}

#[wasm_bindgen_test]
async fn web_pages_and_content_scripts_are_refused() {
    install_fake_chrome();
    let sender = js_sys::Object::new();
    Reflect::set(&sender, &"url".into(), &"https://evil.test/".into()).expect("set");
    let reply = command(r#"{"cmd":"vault.status"}"#, sender.into()).await;
    assert_eq!(error_code(&reply), "ORIGIN_NOT_APPROVED");
}

#[wasm_bindgen_test]
async fn malformed_commands_get_a_clear_error() {
    install_fake_chrome();
    let reply = command(r#"{"cmd":"vault.explode"}"#, own_page()).await;
    assert_eq!(error_code(&reply), "BAD_REQUEST");
}

fn field(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).expect("field")
}

#[wasm_bindgen_test]
async fn ui_helpers_grade_passwords_and_check_base_urls_in_the_core() {
    install_fake_chrome();
    let weak = ok_value(
        &command(
            r#"{"cmd":"password.strength","password":"Password2024!"}"#,
            own_page(),
        )
        .await,
    );
    assert_eq!(field(&weak, "score").as_f64(), Some(0.0));
    assert_eq!(field(&weak, "acceptable"), JsValue::FALSE);
    let good = ok_value(
        &command(
            r#"{"cmd":"password.strength","password":"plum anvil orbit tulip gravel"}"#,
            own_page(),
        )
        .await,
    );
    assert!(
        field(&good, "score").as_f64().unwrap_or(0.0) >= 3.0,
        "{good:?}"
    );

    let remote = command(
        r#"{"cmd":"providers.checkBaseUrl","provider":"openai_compatible","baseUrl":"http://evil.test/v1"}"#,
        own_page(),
    )
    .await;
    assert_eq!(error_code(&remote), "INVALID_INPUT");
    let local = ok_value(
        &command(
            r#"{"cmd":"providers.checkBaseUrl","provider":"openai_compatible","baseUrl":"http://127.0.0.1:11434/v1/"}"#,
            own_page(),
        )
        .await,
    );
    assert_eq!(
        field(&local, "baseUrl").as_string().as_deref(),
        Some("http://127.0.0.1:11434/v1")
    );

    let pending = ok_value(&command(r#"{"cmd":"approvals.list"}"#, own_page()).await);
    assert_eq!(js_sys::Array::from(&pending).length(), 0);
    let providers = ok_value(&command(r#"{"cmd":"providers.list"}"#, own_page()).await);
    let first = js_sys::Array::from(&providers).get(0);
    assert_eq!(field(&first, "testable"), JsValue::TRUE);
    // The add-key form asks the core which provider a pasted key looks like.
    let guess = ok_value(
        &command(
            r#"{"cmd":"providers.guess","keyStart":"sk-ant-api03-x"}"#,
            own_page(),
        )
        .await,
    );
    assert_eq!(guess.as_string().as_deref(), Some("anthropic"));
    let none = ok_value(
        &command(
            r#"{"cmd":"providers.guess","keyStart":"sk-abc"}"#,
            own_page(),
        )
        .await,
    );
    assert!(none.is_null());
}
