//! Strict JSON for token parts: an object at the top, no duplicate member names at any depth,
//! nesting bounded, and nothing after the value. serde_json alone keeps the last duplicate and
//! recurses up to 128 levels; RFC 7515 §5.2 lets a JWS parser either reject duplicates or take
//! the last, and relying parties disagree, so a validator that must not be fooled rejects them.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Parses `bytes` as one JSON object under the rules above.
pub fn parse_object(bytes: &[u8], max_depth: usize) -> Result<Map<String, Value>, String> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = Seed {
        depth: 1,
        max_depth,
    }
    .deserialize(&mut de)
    .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(format!("expected a JSON object, found {}", kind(&other))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[derive(Clone, Copy)]
struct Seed {
    depth: usize,
    max_depth: usize,
}

impl Seed {
    /// Entering a container at `self.depth` (the top level is 1): the seed for its members.
    fn deeper<E: de::Error>(self) -> Result<Seed, E> {
        if self.depth > self.max_depth {
            return Err(E::custom(format!(
                "nested deeper than {} levels",
                self.max_depth
            )));
        }
        Ok(Seed {
            depth: self.depth + 1,
            max_depth: self.max_depth,
        })
    }
}

impl<'de> DeserializeSeed<'de> for Seed {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.deeper()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate member `{key}`")));
            }
            let value = map.next_value_seed(inner)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_objects_and_rejects_the_rest() {
        assert!(parse_object(br#"{"a":[1,{"b":null}],"c":"\u0000"}"#, 32).is_ok());
        let dup = parse_object(br#"{"a":1,"b":{"x":1,"x":2}}"#, 32).unwrap_err();
        assert!(dup.contains("duplicate member `x`"), "{dup}");
        assert!(
            parse_object(b"[1]", 32)
                .unwrap_err()
                .contains("expected a JSON object")
        );
        assert!(parse_object(b"{} {}", 32).is_err());
        assert!(
            parse_object(b"{\"a\":\"\x00\"}", 32).is_err(),
            "raw control character"
        );
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(40), "]".repeat(40));
        assert!(
            parse_object(deep.as_bytes(), 32)
                .unwrap_err()
                .contains("deeper than 32")
        );
        let five_k = format!("{{\"a\":{}{}}}", "[".repeat(5000), "]".repeat(5000));
        assert!(parse_object(five_k.as_bytes(), 32).is_err());
        // Exactly 32 levels (the object and 31 arrays) pass; 33 do not.
        let ok = format!("{{\"a\":{}{}}}", "[".repeat(31), "]".repeat(31));
        assert!(parse_object(ok.as_bytes(), 32).is_ok());
        let over = format!("{{\"a\":{}{}}}", "[".repeat(32), "]".repeat(32));
        assert!(parse_object(over.as_bytes(), 32).is_err());
    }
}
