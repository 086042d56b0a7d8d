//! Free-form JSON on the wire (contact attributes, tracked event data, rule values)
//! must reach the generated TypeScript as a map of JSON values: a bare `object`
//! schema without properties becomes `Record<string, never>`, which no client can fill.

use serde_json::Value;
use switchboard_proto::*;
use utoipa::PartialSchema;

/// Paths inside a schema where an `object` has neither properties nor
/// `additionalProperties`, which `openapi-typescript` turns into `Record<string, never>`.
fn bare_objects(schema: &Value, path: &str, found: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            let object = match map.get("type") {
                Some(Value::String(t)) => t == "object",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
                _ => false,
            };
            let shaped = ["properties", "additionalProperties", "oneOf", "allOf", "anyOf"].iter().any(|k| map.contains_key(*k));
            if object && !shaped {
                found.push(path.to_owned());
            }
            for (key, value) in map {
                bare_objects(value, &format!("{path}/{key}"), found);
            }
        }
        Value::Array(items) => {
            for (i, value) in items.iter().enumerate() {
                bare_objects(value, &format!("{path}/{i}"), found);
            }
        }
        _ => {}
    }
}

fn check<T: PartialSchema>(name: &str, found: &mut Vec<String>) {
    let schema = serde_json::to_value(T::schema()).expect("a schema serialises");
    bare_objects(&schema, name, found);
}

#[test]
fn attribute_values_and_tracked_data_are_maps_of_json_values() {
    let mut found = vec![];
    check::<Contact>("Contact", &mut found);
    check::<UpdateContact>("UpdateContact", &mut found);
    check::<ContactEvent>("ContactEvent", &mut found);
    check::<VisitorIn>("VisitorIn", &mut found);
    check::<TriggerCondition>("TriggerCondition", &mut found);
    check::<TriggerAction>("TriggerAction", &mut found);
    check::<ScoringRule>("ScoringRule", &mut found);
    assert!(found.is_empty(), "objects without a shape (Record<string, never> in TypeScript): {found:#?}");
}

#[test]
fn a_contacts_attributes_accept_strings_numbers_and_booleans() {
    let schema = serde_json::to_value(Contact::schema()).unwrap();
    let attributes = &schema["properties"]["attributes"];
    assert_eq!(attributes["type"], "object");
    // Any JSON value: no `type` restricts the map's values.
    assert!(attributes["additionalProperties"].is_object(), "{attributes}");
    assert!(attributes["additionalProperties"].get("type").is_none(), "{attributes}");
}
