//! N8 tool schema repair (spec §4.6, V7), recursive over schema keywords only (never into
//! `enum`, `const`, `default` or `examples` values, and `properties` maps are walked by value).
//!
//! - Local `$ref`s (`#`, `#/definitions/…`, `#/$defs/…`, any JSON pointer) are inlined, at most
//!   [`MAX_REF_DEPTH`] expansions deep and [`MAX_REF_EXPANSIONS`] in all; a ref cut there (a
//!   recursive schema) keeps only the target's `type` and `description`. Sibling keys of a
//!   `$ref` win over the target's. `definitions` / `$defs` are then deleted.
//! - The root is always `{"type":"object","properties":{…}}` (V7). Below the root a missing or
//!   empty `type` becomes `"object"` only where the node has `properties`; elsewhere a missing
//!   type means "any" and stays missing (an empty one is removed).
//! - A non-object `properties` → `{}`; a non-array `required` → `[]`, without non-strings,
//!   duplicates and (where the node has `properties`) names it does not declare; an
//!   `additionalProperties` that is neither a boolean nor a schema → `true`.
//! - An `anyOf` (or `oneOf`) whose branches are all `const`s (with at most `type`, `title`,
//!   `description` beside) → `enum`, plus their common `type`.
//!
//! Everything else (`$schema`, formats, patterns, bounds, draft 2020-12 keywords) stays.

use serde_json::{Map, Value, json};

/// How many `$ref` expansions may nest.
const MAX_REF_DEPTH: usize = 4;
/// How many `$ref` expansions one schema may cause (guards against exponential blow-up).
const MAX_REF_EXPANSIONS: usize = 256;

/// Keywords whose value is one schema.
const SCHEMA_KEYS: &[&str] = &[
    "items",
    "additionalProperties",
    "additionalItems",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contentSchema",
];
/// Keywords whose value is a list of schemas.
const SCHEMA_LIST_KEYS: &[&str] = &["anyOf", "oneOf", "allOf", "prefixItems", "items"];
/// Keywords whose value is a map of name → schema.
const SCHEMA_MAP_KEYS: &[&str] = &[
    "properties",
    "patternProperties",
    "dependentSchemas",
    "definitions",
    "$defs",
];

/// Repairs a client's input schema for the upstream. Returns the schema and whether anything
/// changed.
pub(crate) fn repair(schema: &Value) -> (Value, bool) {
    let mut out = match schema {
        Value::Object(_) => schema.clone(),
        _ => Value::Object(Map::new()),
    };
    let mut changed = !schema.is_object();
    let mut budget = MAX_REF_EXPANSIONS;
    inline_refs(&mut out, schema, 0, &mut budget, &mut changed);
    repair_node(&mut out, true, &mut changed);
    (out, changed)
}

fn inline_refs(
    node: &mut Value,
    root: &Value,
    depth: usize,
    budget: &mut usize,
    changed: &mut bool,
) {
    let Value::Object(map) = node else { return };
    let target = match map.get("$ref") {
        Some(Value::String(r)) if r.starts_with('#') => {
            let target = if r == "#" {
                Some(root)
            } else {
                root.pointer(&r[1..])
            };
            map.remove("$ref");
            *changed = true;
            Some(target.cloned())
        }
        _ => None,
    };
    // Definitions are deleted later; expanding refs inside them would only spend the budget.
    walk_children(map, false, |child| {
        inline_refs(child, root, depth, budget, changed)
    });
    let Some(target) = target else { return };
    let expanded = match target {
        Some(mut t @ Value::Object(_)) if depth < MAX_REF_DEPTH && *budget > 0 => {
            *budget -= 1;
            inline_refs(&mut t, root, depth + 1, budget, changed);
            t
        }
        // Cut (too deep, over budget) or dangling: keep what describes the node.
        Some(Value::Object(t)) => {
            let mut kept = Map::new();
            for key in ["type", "description"] {
                if let Some(v) = t.get(key) {
                    kept.insert(key.to_owned(), v.clone());
                }
            }
            Value::Object(kept)
        }
        _ => Value::Object(Map::new()),
    };
    if let Value::Object(expanded) = expanded {
        for (key, value) in expanded {
            map.entry(key).or_insert(value);
        }
    }
}

/// Calls `f` on every direct sub-schema of a schema object (`definitions` / `$defs` entries
/// only when `with_definitions`).
fn walk_children(
    map: &mut Map<String, Value>,
    with_definitions: bool,
    mut f: impl FnMut(&mut Value),
) {
    for (key, value) in map.iter_mut() {
        let key = key.as_str();
        if !with_definitions && matches!(key, "definitions" | "$defs") {
            continue;
        }
        if SCHEMA_MAP_KEYS.contains(&key) {
            if let Value::Object(entries) = value {
                entries.values_mut().for_each(&mut f);
            }
        } else if SCHEMA_LIST_KEYS.contains(&key) && value.is_array() {
            if let Value::Array(items) = value {
                items.iter_mut().for_each(&mut f);
            }
        } else if SCHEMA_KEYS.contains(&key) && value.is_object() {
            f(value);
        }
    }
}

fn is_empty_type(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(_) => true,
    }
}

fn set(changed: &mut bool, map: &mut Map<String, Value>, key: &str, value: Value) {
    map.insert(key.to_owned(), value);
    *changed = true;
}

fn repair_node(node: &mut Value, is_root: bool, changed: &mut bool) {
    let Value::Object(map) = node else { return };
    for key in ["definitions", "$defs"] {
        if map.remove(key).is_some() {
            *changed = true;
        }
    }

    if is_root {
        if map.get("type").and_then(Value::as_str) != Some("object") {
            set(changed, map, "type", json!("object"));
        }
        if !map.get("properties").is_some_and(Value::is_object) {
            set(changed, map, "properties", json!({}));
        }
    } else {
        if is_empty_type(map.get("type")) {
            if map.contains_key("properties") {
                set(changed, map, "type", json!("object"));
            } else if map.remove("type").is_some() {
                *changed = true;
            }
        }
        if map.get("properties").is_some_and(|p| !p.is_object()) {
            set(changed, map, "properties", json!({}));
        }
    }

    if let Some(required) = map.get("required") {
        let declared = map.get("properties").and_then(Value::as_object);
        let mut names: Vec<Value> = Vec::new();
        for name in required.as_array().into_iter().flatten() {
            let Some(s) = name.as_str() else { continue };
            let known = declared.is_none_or(|p| p.contains_key(s));
            if known && !names.iter().any(|n| n == name) {
                names.push(name.clone());
            }
        }
        if required.as_array() != Some(&names) {
            set(changed, map, "required", Value::Array(names));
        }
    }

    if map
        .get("additionalProperties")
        .is_some_and(|a| !a.is_boolean() && !a.is_object())
    {
        set(changed, map, "additionalProperties", Value::Bool(true));
    }

    for key in ["anyOf", "oneOf"] {
        if let Some((values, ty)) = map.get(key).and_then(const_branches) {
            map.remove(key);
            map.entry("enum").or_insert(Value::Array(values));
            if let Some(ty) = ty {
                map.entry("type").or_insert(json!(ty));
            }
            *changed = true;
        }
    }

    walk_children(map, true, |child| repair_node(child, false, changed));
}

/// The values of an `anyOf` made only of `const` branches, and their common JSON type.
fn const_branches(list: &Value) -> Option<(Vec<Value>, Option<&'static str>)> {
    let branches = list.as_array().filter(|b| !b.is_empty())?;
    let mut values = Vec::with_capacity(branches.len());
    for branch in branches {
        let obj = branch.as_object()?;
        let only_const = obj
            .keys()
            .all(|k| matches!(k.as_str(), "const" | "type" | "title" | "description"));
        if !only_const {
            return None;
        }
        values.push(obj.get("const")?.clone());
    }
    let kind = |v: &Value| match v {
        Value::String(_) => Some("string"),
        Value::Bool(_) => Some("boolean"),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some("integer"),
        Value::Number(_) => Some("number"),
        _ => None,
    };
    let first = values.first().and_then(kind);
    let common = first.filter(|k| values.iter().all(|v| kind(v) == Some(*k)));
    Some((values, common))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_schema_is_untouched() {
        let s = json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "properties": {"a": {"type": "string", "default": {"type": 5}}}, "required": ["a"],
            "additionalProperties": false});
        assert_eq!(repair(&s), (s.clone(), false));
    }

    #[test]
    fn values_are_not_walked_as_schemas() {
        // A property literally named "definitions" and an enum holding objects stay.
        let s = json!({"type": "object", "properties": {
            "definitions": {"type": "string"},
            "mode": {"enum": [{"type": ""}]}}});
        assert_eq!(repair(&s).0, s);
    }
}
