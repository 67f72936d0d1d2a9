//! Tool parameter schemas between JSON Schema (the IR) and Gemini's `Schema` (an
//! OpenAPI 3.0 subset, `FunctionDeclaration.parameters`).
//!
//! To Gemini, kept: `type` (upper case; `[t, "null"]` becomes `nullable`, several types
//! `anyOf`), `format` (only date-time and enum for strings, float/double, int32/int64),
//! `title`, `description`, `nullable`, `enum` (strings), `properties`, `required`,
//! `items`, `anyOf` (`oneOf` read as `anyOf`, a one-element `allOf` inlined), `minimum`,
//! `maximum`, `minItems`, `maxItems`, `minLength`, `maxLength`, `minProperties`,
//! `maxProperties`, `pattern`, `example` (`examples[0]`), `default`, `propertyOrdering`.
//! Rewritten: `const` becomes `enum [v]`; a local `$ref` into `$defs`/`definitions` is
//! inlined. Removed: `$schema`, `$id`, `$comment`, `$defs`, `definitions`, `$anchor`,
//! `additionalProperties`, `strict`, `examples` beyond the first, `exclusiveMinimum`,
//! `exclusiveMaximum`, `multipleOf`, `uniqueItems`, `readOnly`, `writeOnly`,
//! `deprecated`, `contentEncoding`, `contentMediaType`, other `format`s (validation
//! hints the app still applies to the arguments it gets). Refused: a recursive or
//! non-local `$ref`, non-string `enum`/`const`, several-element `allOf`, and any other
//! keyword (`not`, `prefixItems`, `if`…).
//!
//! From Gemini: types lower-cased, `nullable` folded into the type, int64 strings made
//! numbers, `example` → `examples`, `format: enum` and `propertyOrdering` dropped.

use serde_json::{Map, Value};

use super::super::ir::RouteError;

const MAX_DEPTH: usize = 64;

/// A JSON Schema as Gemini's `Schema`.
pub(super) fn to_gemini(schema: &Value) -> Result<Value, RouteError> {
    let defs = Defs {
        root: schema,
        stack: Vec::new(),
    };
    clean(schema, defs, 0)
}

/// A Gemini `Schema` as JSON Schema.
pub(super) fn from_gemini(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    let mut nullable = false;
    for (key, value) in map {
        // The REST API takes snake_case too; JSON Schema is camelCase.
        let key = camel(key);
        match key.as_str() {
            "type" => {
                let name = value.as_str().map(str::to_ascii_lowercase);
                out.insert(key, name.map(Value::from).unwrap_or(value.clone()));
            }
            "nullable" => nullable = value.as_bool() == Some(true),
            "propertyOrdering" => {}
            "format" if value.as_str() == Some("enum") => {}
            "example" => {
                out.insert("examples".into(), Value::Array(vec![value.clone()]));
            }
            "properties" => {
                let props = match value {
                    Value::Object(props) => props
                        .iter()
                        .map(|(k, v)| (k.clone(), from_gemini(v)))
                        .collect(),
                    _ => Map::new(),
                };
                out.insert(key, Value::Object(props));
            }
            "items" => {
                out.insert(key, from_gemini(value));
            }
            "anyOf" => {
                let all = value
                    .as_array()
                    .map(|a| a.iter().map(from_gemini).collect());
                out.insert("anyOf".into(), Value::Array(all.unwrap_or_default()));
            }
            "minItems" | "maxItems" | "minLength" | "maxLength" | "minProperties"
            | "maxProperties" => {
                let n = super::integer(value).map(Value::from);
                out.insert(key, n.unwrap_or(value.clone()));
            }
            _ => {
                out.insert(key, value.clone());
            }
        }
    }
    if nullable {
        if let Some(Value::String(t)) = out.get("type").cloned() {
            out.insert("type".into(), serde_json::json!([t, "null"]));
        } else if let Some(Value::Array(any)) = out.get_mut("anyOf") {
            any.push(serde_json::json!({"type": "null"}));
        }
    }
    Value::Object(out)
}

fn camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Where `$ref`s resolve, and the references being inlined (to catch recursion).
#[derive(Clone)]
struct Defs<'a> {
    root: &'a Value,
    stack: Vec<&'a str>,
}

impl<'a> Defs<'a> {
    fn resolve(&self, reference: &'a str) -> Result<&'a Value, RouteError> {
        let target = ["#/$defs/", "#/definitions/"].iter().find_map(|prefix| {
            let name = reference.strip_prefix(prefix)?;
            let table = &prefix[2..prefix.len() - 1];
            self.root.get(table)?.get(name)
        });
        target.ok_or_else(|| unsupported(&format!("$ref {reference}")))
    }
}

fn unsupported(what: &str) -> RouteError {
    RouteError::unsupported(format!("tool schema {what} for Gemini"))
}

fn clean<'a>(schema: &'a Value, defs: Defs<'a>, depth: usize) -> Result<Value, RouteError> {
    if depth > MAX_DEPTH {
        return Err(unsupported("nesting"));
    }
    let Value::Object(map) = schema else {
        // `true` (anything) has no Gemini form.
        return Err(unsupported("that is not an object"));
    };
    if let Some(reference) = map.get("$ref") {
        let reference = reference.as_str().ok_or_else(|| unsupported("$ref"))?;
        if defs.stack.contains(&reference) {
            return Err(unsupported("recursive $ref"));
        }
        let target = defs.resolve(reference)?;
        let mut inner = defs.clone();
        inner.stack.push(reference);
        let mut out = clean(target, inner, depth + 1)?;
        // Siblings of `$ref` (a description, usually) still apply.
        let rest: Map<String, Value> = map
            .iter()
            .filter(|(k, _)| k.as_str() != "$ref")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let (Value::Object(out), Value::Object(more)) =
            (&mut out, clean(&Value::Object(rest), defs, depth + 1)?)
        {
            out.extend(more);
        }
        return Ok(out);
    }
    let mut out = Map::new();
    for (key, value) in map {
        let key = key.as_str();
        match key {
            "type" => write_type(value, &mut out)?,
            "format" => {
                if let Some(f) = value.as_str() {
                    if matches!(
                        f,
                        "date-time" | "enum" | "float" | "double" | "int32" | "int64"
                    ) {
                        out.insert("format".into(), value.clone());
                    }
                }
            }
            "title" | "description" | "nullable" | "required" | "minimum" | "maximum"
            | "minItems" | "maxItems" | "minLength" | "maxLength" | "minProperties"
            | "maxProperties" | "pattern" | "example" | "default" | "propertyOrdering" => {
                out.insert(key.into(), value.clone());
            }
            "enum" => {
                let all = value.as_array().ok_or_else(|| unsupported("enum"))?;
                if !all.iter().all(Value::is_string) {
                    return Err(unsupported("enum of non-strings"));
                }
                out.insert("enum".into(), value.clone());
            }
            "const" => {
                if !value.is_string() {
                    return Err(unsupported("const of a non-string"));
                }
                out.insert("enum".into(), Value::Array(vec![value.clone()]));
            }
            "examples" => {
                if let Some(first) = value.as_array().and_then(|a| a.first()) {
                    out.entry("example").or_insert(first.clone());
                }
            }
            "properties" => {
                let props = value.as_object().ok_or_else(|| unsupported("properties"))?;
                let mut cleaned = Map::new();
                for (name, prop) in props {
                    cleaned.insert(name.clone(), clean(prop, defs.clone(), depth + 1)?);
                }
                out.insert("properties".into(), Value::Object(cleaned));
            }
            "items" => {
                out.insert("items".into(), clean(value, defs.clone(), depth + 1)?);
            }
            "anyOf" | "oneOf" => {
                let all = value.as_array().ok_or_else(|| unsupported(key))?;
                let mut cleaned = Vec::with_capacity(all.len());
                for one in all {
                    cleaned.push(clean(one, defs.clone(), depth + 1)?);
                }
                out.insert("anyOf".into(), Value::Array(cleaned));
            }
            "allOf" => match value.as_array().map(Vec::as_slice) {
                Some([only]) => {
                    if let Value::Object(inner) = clean(only, defs.clone(), depth + 1)? {
                        for (k, v) in inner {
                            out.entry(k).or_insert(v);
                        }
                    }
                }
                _ => return Err(unsupported("allOf")),
            },
            "$schema"
            | "$id"
            | "$comment"
            | "$defs"
            | "definitions"
            | "$anchor"
            | "additionalProperties"
            | "strict"
            | "exclusiveMinimum"
            | "exclusiveMaximum"
            | "multipleOf"
            | "uniqueItems"
            | "readOnly"
            | "writeOnly"
            | "deprecated"
            | "contentEncoding"
            | "contentMediaType" => {}
            other => return Err(unsupported(&format!("keyword {other}"))),
        }
    }
    Ok(Value::Object(out))
}

/// `type` as Gemini writes it: one upper-case type, `nullable` for a null alternative.
fn write_type(value: &Value, out: &mut Map<String, Value>) -> Result<(), RouteError> {
    let upper = |t: &Value| -> Result<Value, RouteError> {
        let name = t.as_str().ok_or_else(|| unsupported("type"))?;
        match name {
            "string" | "number" | "integer" | "boolean" | "array" | "object" | "null" => {
                Ok(Value::from(name.to_ascii_uppercase()))
            }
            _ => Err(unsupported(&format!("type {name}"))),
        }
    };
    match value {
        Value::Array(types) => {
            let real: Vec<&Value> = types
                .iter()
                .filter(|t| t.as_str() != Some("null"))
                .collect();
            if real.len() < types.len() {
                out.insert("nullable".into(), Value::Bool(true));
            }
            match real.as_slice() {
                [] => {
                    out.insert("type".into(), Value::from("NULL"));
                }
                [one] => {
                    out.insert("type".into(), upper(one)?);
                }
                many => {
                    let mut any = Vec::new();
                    for t in many {
                        any.push(serde_json::json!({"type": upper(t)?}));
                    }
                    out.insert("anyOf".into(), Value::Array(any));
                }
            }
        }
        one => {
            out.insert("type".into(), upper(one)?);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refs_are_inlined_and_recursion_refused() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "properties": {"at": {"$ref": "#/$defs/place", "description": "where"}},
            "$defs": {"place": {"type": ["string", "null"], "const": "home"}}
        });
        assert_eq!(
            to_gemini(&schema).expect("test value"),
            json!({"type": "OBJECT", "properties": {"at": {
                "type": "STRING", "nullable": true, "enum": ["home"], "description": "where"
            }}})
        );
        let recursive = json!({
            "$defs": {"node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}}},
            "$ref": "#/$defs/node"
        });
        assert_eq!(
            to_gemini(&recursive),
            Err(RouteError::unsupported(
                "tool schema recursive $ref for Gemini"
            ))
        );
        assert_eq!(
            to_gemini(&json!({"type": "object", "not": {}})),
            Err(RouteError::unsupported(
                "tool schema keyword not for Gemini"
            ))
        );
    }

    #[test]
    fn gemini_schemas_read_as_json_schema() {
        let schema = json!({"type": "OBJECT", "properties": {
            "n": {"type": "INTEGER", "nullable": true},
            "tags": {"type": "ARRAY", "items": {"type": "STRING", "format": "enum", "enum": ["a"]},
                     "minItems": "1"}
        }, "propertyOrdering": ["n", "tags"]});
        assert_eq!(
            from_gemini(&schema),
            json!({"type": "object", "properties": {
                "n": {"type": ["integer", "null"]},
                "tags": {"type": "array", "items": {"type": "string", "enum": ["a"]}, "minItems": 1}
            }})
        );
    }
}
