//! One thing that happened: `(ts_ns, kind, pid, fields, src)`, plus its `seq` once stored.

use super::schema::{fields_of, kind_id};
use super::value::{Str, Value};
use crate::error::{Error, Result};

/// Where an event came from: a source file id (index into the trace's sources) and a 1-based line.
pub type Src = (i64, i64);

#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub ts_ns: i64,
    pub kind: u8,
    pub pid: Option<i64>,
    /// The kind's fields by position (`schema::KINDS`); `Nil` where the event does not say.
    pub values: Vec<Value>,
    /// Fields the kind's schema lacks, in the order given (they travel in a trailing map).
    pub extra: Vec<(Str, Value)>,
    pub src: Option<Src>,
    /// The fields a converter deduced rather than read, sorted.
    pub inferred: Vec<Str>,
    pub seq: Option<i64>,
}

impl Event {
    /// An event with no fields said yet.
    pub fn new(ts_ns: i64, kind: u8, pid: Option<i64>) -> Event {
        Event {
            ts_ns,
            kind,
            pid,
            values: vec![Value::Nil; fields_of(kind).len()],
            extra: Vec::new(),
            src: None,
            inferred: Vec::new(),
            seq: None,
        }
    }

    pub fn named(ts_ns: i64, kind: &str, pid: Option<i64>) -> Result<Event> {
        let id =
            kind_id(kind).ok_or_else(|| Error::Value(format!("unknown event kind '{kind}'")))?;
        Ok(Event::new(ts_ns, id, pid))
    }

    /// Set a field by name: into its column, or among the extras when the kind has no such field.
    pub fn set(&mut self, name: &str, value: Value) {
        match fields_of(self.kind).iter().position(|f| *f == name) {
            Some(i) => self.values[i] = value,
            None => {
                if value.is_nil() {
                    self.extra.retain(|(k, _)| &**k != name);
                } else if let Some(slot) = self.extra.iter_mut().find(|(k, _)| &**k == name) {
                    slot.1 = value;
                } else {
                    self.extra.push((Str::from(name), value));
                }
            }
        }
    }

    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Event {
        self.set(name, value.into());
        self
    }

    /// A field by name; Nil when the event does not say.
    pub fn get(&self, name: &str) -> &Value {
        static NIL: Value = Value::Nil;
        if let Some(i) = fields_of(self.kind).iter().position(|f| *f == name) {
            return &self.values[i];
        }
        self.extra
            .iter()
            .find(|(k, _)| &**k == name)
            .map_or(&NIL, |(_, v)| v)
    }

    pub fn is_inferred(&self, name: &str) -> bool {
        self.inferred.iter().any(|f| &**f == name)
    }

    pub fn set_inferred(&mut self, names: impl IntoIterator<Item = Str>) {
        let mut all: Vec<Str> = names.into_iter().collect();
        all.sort();
        all.dedup();
        self.inferred = all;
    }

    /// `(name, value)` of every said field: the schema's in order, then the extras.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &Value)> {
        fields_of(self.kind)
            .iter()
            .zip(self.values.iter())
            .filter(|(_, v)| !v.is_nil())
            .map(|(n, v)| (*n, v))
            .chain(self.extra.iter().map(|(k, v)| (&**k, v)))
    }
}

/// A `log` event: one per source line that means nothing else (most lines), made by both converters.
pub fn log_event(ts: i64, text: &str, src: Src) -> Event {
    let mut ev = Event::new(ts, super::schema::kind::LOG, None);
    ev.values[0] = Value::Str(Str::from(text));
    ev.src = Some(src);
    ev
}
