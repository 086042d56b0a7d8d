//! Wire → domain parsing shared by the REST handlers and the socket sessions, so
//! neither borrows the other's helpers: every failure is a [`ValidationError`] that
//! each edge reports its own way (an HTTP 422 body, an `error` frame).

use std::collections::BTreeMap;

use switchboard_core::{ContactPatch, Draft};
use switchboard_domain::*;
use switchboard_proto as p;

/// A contact attribute's value; JSON `null` removes the attribute.
pub fn attribute(key: &str, v: &serde_json::Value) -> Result<Option<AttributeValue>, ValidationError> {
    Ok(Some(match v {
        serde_json::Value::Null => return Ok(None),
        serde_json::Value::String(s) => AttributeValue::Text(s.clone()),
        serde_json::Value::Bool(b) => AttributeValue::Bool(*b),
        serde_json::Value::Number(n) => AttributeValue::Number(n.as_f64().unwrap_or_default()),
        _ => return Err(ValidationError::new("attributes", format!("{key}: values must be strings, numbers or booleans"))),
    }))
}

/// Attributes to merge into a contact's.
pub fn attributes<'a>(
    map: impl IntoIterator<Item = (&'a String, &'a serde_json::Value)>,
) -> Result<Vec<(String, Option<AttributeValue>)>, ValidationError> {
    map.into_iter().map(|(k, v)| Ok((k.clone(), attribute(k, v)?))).collect()
}

/// The data of a tracked event (`track`): strings, numbers and booleans only (no
/// `null`, which means nothing here); how many keys is core's rule.
pub fn track_data(map: &BTreeMap<String, serde_json::Value>) -> Result<Attributes, ValidationError> {
    map.iter()
        .map(|(k, v)| match attribute(k, v) {
            Ok(Some(value)) => Ok((k.clone(), value)),
            Ok(None) | Err(_) => Err(ValidationError::new("data", format!("{k}: values must be strings, numbers or booleans"))),
        })
        .collect()
}

/// An optional e-mail address, checked.
pub fn email(e: Option<&str>) -> Result<Option<Email>, ValidationError> {
    e.map(Email::parse).transpose()
}

/// A message as a REST request or a `send` frame describes it.
pub fn draft(client_id: Option<String>, body: String, format: Option<p::MessageFormat>, attachments: &[uuid::Uuid]) -> Draft {
    Draft {
        client_id,
        body,
        format: format.map(Into::into).unwrap_or_default(),
        attachments: attachments.iter().map(|a| AttachmentId(*a)).collect(),
    }
}

/// What a visitor may fill in about themselves (a `profile` frame): never the external id.
pub fn visitor_profile(
    name: Option<String>,
    email: Option<&str>,
    phone: Option<String>,
    attrs: &BTreeMap<String, serde_json::Value>,
) -> Result<ContactPatch, ValidationError> {
    Ok(ContactPatch {
        name: name.map(Some),
        email: self::email(email)?.map(Some),
        phone: phone.map(Some),
        external_id: None,
        attributes: attributes(attrs)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_with_a_nested_attribute_is_refused_naming_the_field() {
        let attrs = BTreeMap::from([("plan".to_owned(), serde_json::json!({"tier": "gold"}))]);
        let err = visitor_profile(None, None, None, &attrs).unwrap_err();
        assert_eq!(err.field, "attributes");
        let err = visitor_profile(None, Some("not an address"), None, &BTreeMap::new()).unwrap_err();
        assert_eq!(err.field, "email");
    }

    #[test]
    fn a_null_attribute_removes_it() {
        let attrs = BTreeMap::from([("plan".to_owned(), serde_json::Value::Null), ("vip".to_owned(), serde_json::json!(true))]);
        let patch = visitor_profile(Some("Ada".into()), None, None, &attrs).unwrap();
        assert_eq!(patch.attributes, [("plan".to_owned(), None), ("vip".to_owned(), Some(AttributeValue::Bool(true)))]);
        assert_eq!(patch.name, Some(Some("Ada".to_owned())));
    }
}
