//! The parts of an event that are kept when it is read: what the patterns name (and what
//! the output shows), nothing else. An event of CloudTrail holds some fifty values, a
//! pattern names a few; building the rest as `serde_json::Value`s would cost most of the
//! reading time in allocations. What is not kept is still parsed by the same parser the
//! same way (`deserialize_any`: strings checked for UTF-8, numbers converted), so a kept
//! event is refused exactly when the whole one would be, with the same error and position.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// What is kept of a value: all of it, or some of its members and array elements (each
/// with what is kept of it). A path ending at a value keeps that value whole, so whatever
/// a pattern's selector resolves to is the same in the kept event as in the whole one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    whole: bool,
    members: BTreeMap<String, Fields>,
    items: BTreeMap<usize, Fields>,
}

impl Fields {
    /// Everything: the event as it is.
    pub fn all() -> Fields {
        Fields {
            whole: true,
            ..Fields::default()
        }
    }

    /// What is kept of the member `name` (added if new).
    pub fn member(&mut self, name: &str) -> &mut Fields {
        self.members.entry(name.to_string()).or_default()
    }

    /// What is kept of the array element `index` (added if new).
    pub fn item(&mut self, index: usize) -> &mut Fields {
        self.items.entry(index).or_default()
    }

    /// Keeps this value whole.
    pub fn keep_whole(&mut self) {
        self.whole = true;
    }

    /// Reads one value, keeping what `self` says.
    pub fn seed(&self) -> Kept<'_> {
        Kept(self)
    }

    /// What is kept of the member `name`, if anything.
    pub fn of_member(&self, name: &str) -> Option<&Fields> {
        match self.whole {
            true => Some(&WHOLE),
            false => self.members.get(name),
        }
    }
}

static WHOLE: Fields = Fields {
    whole: true,
    members: BTreeMap::new(),
    items: BTreeMap::new(),
};

/// A [`DeserializeSeed`] that builds the kept part of a value.
#[derive(Clone, Copy)]
pub struct Kept<'f>(&'f Fields);

impl<'de> DeserializeSeed<'de> for Kept<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Value, D::Error> {
        if self.0.whole {
            return serde::Deserialize::deserialize(de);
        }
        de.deserialize_any(self)
    }
}

/// Scalars are kept as `serde_json::Value`'s own visitor keeps them.
impl<'de> Visitor<'de> for Kept<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Value, E> {
        Ok(Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_string()))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        // Elements before the last kept one hold their places (as nulls, never looked at:
        // no path goes through them); those after it are not kept.
        let last = self.0.items.keys().next_back().copied();
        let mut kept = Vec::new();
        let mut index = 0usize;
        loop {
            let element = match self.0.items.get(&index) {
                Some(fields) => seq.next_element_seed(fields.seed())?,
                None => seq.next_element::<Skipped>()?.map(|Skipped| Value::Null),
            };
            let Some(element) = element else { break };
            if last.is_some_and(|last| index <= last) {
                kept.push(element);
            }
            index = index.saturating_add(1);
        }
        Ok(Value::Array(kept))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = Map::new();
        while let Some(member) = map.next_key_seed(MemberName(&self.0.members))? {
            match member {
                // A repeated member replaces the earlier one, as in `Value`.
                Some((name, fields)) => {
                    let value = map.next_value_seed(fields.seed())?;
                    kept.insert(name.clone(), value);
                }
                None => map.next_value::<Skipped>().map(|Skipped| ())?,
            }
        }
        Ok(Value::Object(kept))
    }
}

/// A member's name: the kept member it names, if any (no allocation for the others).
struct MemberName<'f>(&'f BTreeMap<String, Fields>);

impl<'de, 'f> DeserializeSeed<'de> for MemberName<'f> {
    type Value = Option<(&'f String, &'f Fields)>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_str(self)
    }
}

impl<'de, 'f> Visitor<'de> for MemberName<'f> {
    type Value = Option<(&'f String, &'f Fields)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E>(self, name: &str) -> Result<Self::Value, E> {
        Ok(self.0.get_key_value(name))
    }
}

/// A value read through and dropped: parsed as `Value` would parse it (`deserialize_any`,
/// not serde_json's faster skipping, which checks less), so errors are the same.
pub struct Skipped;

impl<'de> serde::Deserialize<'de> for Skipped {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Skipped, D::Error> {
        de.deserialize_any(SkippedVisitor)
    }
}

struct SkippedVisitor;

impl<'de> Visitor<'de> for SkippedVisitor {
    type Value = Skipped;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_str<E>(self, _: &str) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_unit<E>(self) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_none<E>(self) -> Result<Skipped, E> {
        Ok(Skipped)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skipped, A::Error> {
        while seq.next_element::<Skipped>()?.is_some() {}
        Ok(Skipped)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skipped, A::Error> {
        while map.next_key::<Skipped>()?.is_some() {
            map.next_value::<Skipped>()?;
        }
        Ok(Skipped)
    }
}

#[cfg(test)]
mod tests;
